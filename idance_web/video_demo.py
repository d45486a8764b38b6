"""Short generated videos for the demo and the tests: frames drawn with Pillow, encoded with
the encoders PyAV's wheel carries (libx264, libx265, libvpx, libsvtav1, aac, libopus)."""

from __future__ import annotations

import math
import os
from fractions import Fraction

import av
import numpy as np
from PIL import Image, ImageDraw

CODECS = {  # fmt → (video encoder, audio encoder)
    "mp4": ("libx264", "aac"),
    "mov": ("libx264", "aac"),
    "webm": ("libvpx-vp9", "libopus"),
}
FAST_OPTIONS = {  # the encoders' quickest settings: these files are seconds long
    "libx264": {"preset": "ultrafast"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=error"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8"},
    "libsvtav1": {"preset": "12"},
}
SAMPLE_RATE = 48000


def _picture(n: int, frames: int, size: tuple[int, int], text: str | None) -> Image.Image:
    """Frame ``n``: a colour sweep with a dot dancing across it, and ``text``."""
    width, height = size
    hue = n / max(frames, 1)
    image = Image.new("RGB", size, (int(90 + 80 * hue), 40, int(170 - 80 * hue)))
    draw = ImageDraw.Draw(image)
    radius = max(4, min(size) // 8)
    x = int((width - 2 * radius) * (0.5 + 0.5 * math.sin(2 * math.pi * n / 50))) + radius
    y = int((height - 2 * radius) * (0.5 + 0.4 * math.cos(2 * math.pi * n / 35))) + radius
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(250, 210, 60))
    draw.rectangle((0, height - 6, int(width * hue), height), fill=(255, 255, 255))
    if text:
        draw.text((12, 12), text, fill=(255, 255, 255))
    return image


def _tone(stream, seconds: float):
    """A quiet 440 Hz tone in frames of the encoder's size."""
    size = stream.codec_context.frame_size or 1024
    total = int(seconds * SAMPLE_RATE)
    for start in range(0, total, size):
        t = (np.arange(start, start + size) / SAMPLE_RATE).astype(np.float32)
        samples = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([samples, samples]), format="fltp",
                                           layout="stereo")
        frame.sample_rate, frame.pts = SAMPLE_RATE, start
        yield frame


def make_demo_video(out_path: str | os.PathLike, *, seconds: float = 3,
                    size: tuple[int, int] = (640, 360), fmt: str = "mp4",
                    text: str | None = None, codec: str | None = None, audio: bool = True,
                    metadata: dict[str, str] | None = None, fps: int = 25,
                    rotation: int = 0) -> None:
    """Encode a moving picture of ``seconds`` into ``out_path`` as ``fmt`` (mp4, mov, webm;
    H.264/AAC, or VP9/Opus in WebM) or with another ``codec`` (libx265, libvpx, libsvtav1).
    ``metadata`` goes into the container as tags, ``rotation`` into the display matrix."""
    video_codec, audio_codec = CODECS[fmt]
    video_codec = codec or video_codec
    options = {"movflags": "use_metadata_tags"} if metadata and fmt != "webm" else {}
    frames = max(1, int(seconds * fps))
    with av.open(str(out_path), "w", format=fmt, options=options) as out:
        out.metadata.update(metadata or {})
        stream = out.add_stream(video_codec, rate=fps,
                                options=FAST_OPTIONS.get(video_codec, {}))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if video_codec == "libx265" and fmt in ("mp4", "mov"):
            stream.codec_tag = "hvc1"  # the tag Apple's players need
        if rotation:
            stream.set_display_rotation(rotation)
        sound = out.add_stream(audio_codec, rate=SAMPLE_RATE) if audio else None
        if sound is not None:
            sound.layout = "stereo"
        for n in range(frames):
            frame = av.VideoFrame.from_image(_picture(n, frames, size, text))
            frame.pts, frame.time_base = n, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            for frame in _tone(sound, frames / fps):
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
