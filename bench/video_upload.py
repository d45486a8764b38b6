"""Benchmark: peak memory and time of taking a large video upload.

Run from the project root: ``python bench/video_upload.py [--mb 150] [--repeats 5]``.

It encodes a video of about ``--mb`` MB (lossless H.264 of noisy 720p frames, so a few seconds
hold the bytes) and one of about 1 MB, wraps each in a ``multipart/form-data`` body on disk,
and then, in a fresh process per run (so that each peak is that run's own), takes the body
through the whole upload path: werkzeug's multipart parsing from a streamed WSGI input (the
body is never in memory), ``video.save_upload``, ``probe``, ``remux``, ``poster_frame`` and
``LocalStorage.put_file``. Each run reports its peak RSS (``ru_maxrss``), the RSS it had before
the upload (after imports), and its time. Printed: per size the median and p99 (the largest of
a few runs) of each, and the ratio of the large upload's peak to the small one's. The last line
is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
BOUNDARY = "benchboundary"


def make_video(path: Path, megabytes: float) -> None:
    """Lossless H.264 of noise: about 1.6 MB a 1280×720 frame, so ``megabytes`` in seconds."""
    import av
    import numpy as np

    rng = np.random.default_rng(7)
    size = (720, 1280) if megabytes > 4 else (180, 320)
    per_frame = size[0] * size[1] * 1.8
    frames = max(10, int(megabytes * MB / per_frame))
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25, options={"qp": "0", "preset": "ultrafast"})
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        for n in range(frames):
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def make_body(video: Path, body: Path) -> None:
    """The multipart body a browser sends for a form with a title and the video."""
    with open(body, "wb") as out, open(video, "rb") as source:
        out.write(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
                  f"Salsa\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"video\"; "
                  f"filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n".encode())
        while chunk := source.read(MB):
            out.write(chunk)
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(body_path: str, work: str) -> None:
    """One upload in this process; prints its figures as JSON."""
    from werkzeug.wrappers import Request

    from idance_web import media, video
    from idance_web.storage import LocalStorage

    before = rss_mb()
    started = time.perf_counter()
    size = os.path.getsize(body_path)
    with open(body_path, "rb") as stream:
        request = Request({
            "REQUEST_METHOD": "POST", "wsgi.input": stream, "CONTENT_LENGTH": str(size),
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "SERVER_NAME": "bench", "SERVER_PORT": "80", "wsgi.url_scheme": "http"})
        request.max_content_length = 250 * MB
        upload = request.files["video"]
        saved = video.save_upload(upload.stream, work, max_bytes=200 * MB)
        request.close()
    info = video.probe(saved, max_seconds=600)
    clean = Path(work) / "clean.mp4"
    video.remux(saved, clean, info)
    poster = video.poster_frame(clean)
    storage = LocalStorage(Path(work) / "media")
    storage.put_file(media.file_key(clean, "mp4"), clean, "video/mp4")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"before_mb": round(before, 1), "peak_mb": round(peak, 1),
                      "seconds": round(seconds, 3), "body_mb": round(size / MB, 1),
                      "poster_bytes": len(poster), "duration": info.duration}))


def run_once(body: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="video-bench-") as work:
        out = subprocess.run([sys.executable, __file__, "--child", str(body), work],
                             capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    figures = {}
    for name in ("peak_mb", "before_mb", "seconds"):
        values = sorted(run[name] for run in runs)
        figures[name] = {"median": round(statistics.median(values), 3), "p99": values[-1]}
    figures["body_mb"] = runs[0]["body_mb"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=150)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("BODY", "WORK"))
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    results = {}
    with tempfile.TemporaryDirectory(prefix="video-bench-files-") as folder:
        for name, megabytes in (("small", 1.0), ("large", args.mb)):
            clip, body = Path(folder) / f"{name}.mp4", Path(folder) / f"{name}.body"
            make_video(clip, megabytes)
            make_body(clip, body)
            clip.unlink()
            runs = [run_once(body) for _ in range(args.repeats)]
            results[name] = summary(runs)
            figures = results[name]
            print(f"{name}: body {figures['body_mb']} MB, peak RSS median "
                  f"{figures['peak_mb']['median']} MB (p99 {figures['peak_mb']['p99']}), "
                  f"before the upload {figures['before_mb']['median']} MB, time median "
                  f"{figures['seconds']['median']} s (p99 {figures['seconds']['p99']})")
    small, large = results["small"], results["large"]
    ratio = large["peak_mb"]["median"] / small["peak_mb"]["median"]
    growth = (large["peak_mb"]["median"] - large["before_mb"]["median"],
              small["peak_mb"]["median"] - small["before_mb"]["median"])
    results["peak_ratio"] = round(ratio, 3)
    results["growth_mb"] = {"large": round(growth[0], 1), "small": round(growth[1], 1)}
    print(f"peak RSS, large / small upload: {ratio:.2f}x; growth during the upload: "
          f"{growth[0]:.1f} MB (large) against {growth[1]:.1f} MB (small)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
