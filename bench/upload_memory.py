"""Benchmark: process memory while members upload worst-case images at the same time.

Run from the project root: ``python bench/upload_memory.py [--threads N] [--rounds R]
[--case NAME ...]``.

It builds the app in-process on a ``mem://`` database with a temporary media folder, signs up
one member per thread through the real pages, and then, for each image below, uploads it as an
avatar through ``POST /me/profile/images/avatar`` (the Flask test client, the whole upload
path): once alone, then from every thread at once (each ``rounds`` times, started together).
Peak RSS is the kernel's high-water mark (``VmHWM``, reset through ``/proc/self/clear_refs``
before each phase) and, as a cross-check, the highest ``VmRSS`` a thread sampled every 2 ms.
Each phase starts from a collected, trimmed heap; "after" is what the process holds once a
phase ended, untrimmed. Uploads may wait as long as they need for a decoding thread: this
measures memory, not refusals. The images are small files of many pixels: what costs memory is
decoding, not the upload.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import io
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from idance_web import create_app  # noqa: E402
from idance_web.config import Config  # noqa: E402
from idance_web.migrate import Runner  # noqa: E402
from tests.lookup_fixture import load_small_lookup  # noqa: E402

MB = 1024 * 1024
PASSWORD = "correct horse battery"


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A smooth picture: every pixel differs, yet it compresses well (a photo-like worst case)."""
    g = Image.linear_gradient("L").resize(size)
    r = Image.radial_gradient("L").resize(size)
    bands = [g, r, g.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    if mode == "RGBA":
        bands.append(r.transpose(Image.Transpose.FLIP_TOP_BOTTOM))
    return Image.merge(mode, bands)


def _encode(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    im.close()
    return out.getvalue()


# name → (what it is, how to build its bytes)
CASES = {
    "png-6300": ("PNG 6300×6300 RGB, one colour (the reported image, 39.7 MP)",
                 lambda: _encode(Image.new("RGB", (6300, 6300), (200, 30, 90)), "PNG")),
    "png-rgba-32mp": ("PNG 6531×4899 RGBA, one translucent colour (32.0 MP)",
                      lambda: _encode(Image.new("RGBA", (6531, 4899), (200, 30, 90, 128)),
                                      "PNG")),
    "png-rgba-23mp": ("PNG 4799×4799 RGBA, one translucent colour (23.0 MP: the largest that "
                      "is not reduced before resampling)",
                      lambda: _encode(Image.new("RGBA", (4799, 4799), (200, 30, 90, 128)),
                                      "PNG")),
    "webp-10mp": ("WebP 3651×2738, lossless, one colour (10.0 MP)",
                  lambda: _encode(Image.new("RGB", (3651, 2738), (200, 30, 90)), "WEBP",
                                  lossless=True)),
    "webp-40mp": ("WebP 7300×5479, lossless, one colour (40.0 MP)",
                  lambda: _encode(Image.new("RGB", (7300, 5479), (200, 30, 90)), "WEBP",
                                  lossless=True)),
    "jpeg-progressive-25mp": ("JPEG 5773×4330, progressive, 4:4:4, a gradient (25.0 MP)",
                              lambda: _encode(_gradient((5773, 4330)), "JPEG", quality=85,
                                              progressive=True, subsampling=0)),
    "jpeg-48mp": ("JPEG 8000×6000, baseline, 4:2:0, a gradient (48 MP, a phone's full size)",
                  lambda: _encode(_gradient((8000, 6000)), "JPEG", quality=85)),
}


def rss_kb(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakSampler:
    """Samples VmRSS every ``interval`` seconds in a thread; ``peak`` is the highest seen."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kb())
            time.sleep(self.interval)

    def __enter__(self) -> "PeakSampler":
        self.peak = rss_kb()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kb())


def settled_rss(trim: bool = False) -> int:
    """RSS once garbage is collected; with ``trim``, after giving glibc's free pages back too
    (a clean start for the next phase, whatever the one before left in the allocator)."""
    gc.collect()
    if trim and _malloc_trim is not None:
        _malloc_trim(0)
    time.sleep(0.2)
    return rss_kb()


try:
    _malloc_trim = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="(?:\w+-)?csrf_token" type="hidden" value="([^"]+)"', html)
    if not match:
        raise SystemExit(f"no CSRF token on {path}")
    return match.group(1)


def member_client(app, n: int):
    client = app.test_client()
    response = client.post("/signup", data={
        "email": f"bench{n}@example.com", "username": f"bench{n}",
        "display_name": f"Bench {n}", "password": PASSWORD,
        "csrf_token": csrf_token(client, "/signup")})
    if response.status_code != 302:
        raise SystemExit(f"sign-up failed: {response.status_code}")
    return client, csrf_token(client, "/me/profile")


def upload(client, token: str, data: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    response = client.post("/me/profile/images/avatar", data={
        "csrf_token": token, "alt": "A dancer on stage", "file": (io.BytesIO(data), "x.img")},
        content_type="multipart/form-data")
    elapsed = time.perf_counter() - started
    response.close()
    return response.status_code, elapsed


def measure(phase) -> dict:
    """Run ``phase()`` and report the RSS it started from and its peak, both in kB."""
    before = settled_rss(trim=True)
    hwm = reset_peak()
    with PeakSampler() as sampler:
        result = phase()
    peak = max(sampler.peak, rss_kb("VmHWM") if hwm else 0)
    return {"before": before, "peak": peak, "result": result}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run_case(members, data: bytes, rounds: int) -> dict:
    client, token = members[0]
    alone = measure(lambda: upload(client, token, data))
    status, alone_seconds = alone["result"]
    gate = threading.Barrier(len(members))
    results: list[list[tuple[int, float]]] = [[] for _ in members]

    def worker(n: int) -> None:
        member_client_, member_token = members[n]
        gate.wait()
        for _ in range(rounds):
            results[n].append(upload(member_client_, member_token, data))

    def together():
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(members))]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - began

    both = measure(together)
    after = settled_rss()
    times = [seconds for mine in results for _, seconds in mine]
    statuses = sorted({code for mine in results for code, _ in mine} | {status})
    alone_delta = (alone["peak"] - alone["before"]) / 1024
    together_delta = (both["peak"] - both["before"]) / 1024
    return {
        "status": statuses, "bytes": len(data),
        "alone_peak_delta_mb": round(alone_delta, 1), "alone_s": round(alone_seconds, 3),
        "before_mb": round(both["before"] / 1024, 1), "peak_mb": round(both["peak"] / 1024, 1),
        "peak_delta_mb": round(together_delta, 1), "after_mb": round(after / 1024, 1),
        "p50_s": round(statistics.median(times), 3), "p99_s": round(pct(times, 99), 3),
        "wall_s": round(both["result"], 2), "uploads": len(times),
        "ratio_to_alone": round(together_delta / alone_delta, 2) if alone_delta >= 10 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="uploads per thread")
    parser.add_argument("--case", action="append", choices=sorted(CASES),
                        help="only these images (repeatable); default: all")
    args = parser.parse_args()
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="idance-bench-upload-"))
    figures: dict = {"threads": args.threads, "rounds": args.rounds, "cores": os.cpu_count()}
    try:
        config = Config(env="development", db_url="mem://", media_root=str(tmp / "media"),
                        auto_migrate=False, rate_limits=False, follow_changes=False)
        app = create_app(config)
        Runner(app.extensions["idance.db"],
               lookup=lambda s, log: load_small_lookup(s)).run(log=lambda m: None)
        members = [member_client(app, n) for n in range(args.threads)]
        figures["decoders"] = getattr(config, "image_decoders", None)
        small = _encode(_gradient((800, 600)), "JPEG")
        for client, token in members:  # warm-up: templates, imports, the first variants
            if upload(client, token, small)[0] != 302:
                raise SystemExit("the warm-up upload failed")
        # Long enough for every upload to get its turn: this measures memory, not refusals.
        if decoders := app.extensions.get("idance.image_decoders"):
            decoders.wait = 600
        figures["baseline_mb"] = round(settled_rss(trim=True) / 1024, 1)
        print(f"{args.threads} threads x {args.rounds} uploads, {os.cpu_count()} cores, "
              f"decoding threads: {figures['decoders'] or 'unbounded'}; baseline RSS "
              f"{figures['baseline_mb']:.0f} MB")
        print(f"{'image':<24}{'status':>8}{'alone':>8}{'alone s':>8}{'peak':>8}{'delta':>8}"
              f"{'after':>8}{'p50 s':>8}{'p99 s':>8}{'ratio':>7}")
        cases = {}
        for name in args.case or CASES:
            data = CASES[name][1]()
            gc.collect()
            r = cases[name] = run_case(members, data, args.rounds)
            r["peak_over_baseline_mb"] = round(r["peak_mb"] - figures["baseline_mb"], 1)
            ratio = f"{r['ratio_to_alone']:.1f}x" if r["ratio_to_alone"] else "-"
            print(f"{name:<24}{'/'.join(map(str, r['status'])):>8}"
                  f"{r['alone_peak_delta_mb']:>7.0f}M{r['alone_s']:>8.2f}{r['peak_mb']:>7.0f}M"
                  f"{r['peak_delta_mb']:>+7.0f}M{r['after_mb']:>7.0f}M"
                  f"{r['p50_s']:>8.2f}{r['p99_s']:>8.2f}{ratio:>7}")
        figures["cases"] = cases
        figures["worst_peak_delta_mb"] = max(r["peak_delta_mb"] for r in cases.values())
        figures["worst_peak_over_baseline_mb"] = max(r["peak_over_baseline_mb"]
                                                     for r in cases.values())
        figures["end_mb"] = round(settled_rss() / 1024, 1)
        app.extensions["idance.db"].close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(f"  {name}: {CASES[name][0]}" for name in figures["cases"]))
    print("alone: peak RSS above the RSS before one upload alone (MB); peak/delta: with every "
          "thread uploading at once; after: RSS once they finished; ratio: delta / alone")
    print(f"worst peak delta {figures['worst_peak_delta_mb']:+.0f} MB "
          f"({figures['worst_peak_over_baseline_mb']:+.0f} MB over the baseline); RSS at the end "
          f"{figures['end_mb']:.0f} MB (baseline {figures['baseline_mb']:.0f} MB); "
          f"total {time.perf_counter() - began:.0f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
