"""Uploaded videos: saved in chunks, checked by their content, and made fit to serve.

A video is never held whole in memory: ``save_upload`` copies the upload to a file, ``probe``
reads its container and decodes its first frames (PyAV, the FFmpeg bindings), ``remux`` copies
its streams into a clean MP4 or WebM without metadata and with the index first, and
``transcode_h264`` re-encodes what browsers cannot play (MOV, HEVC) into H.264 MP4.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from .captions import MAX_CAPTION_BYTES, check_webvtt  # noqa: F401 - part of this interface
from .media_errors import VideoRefused


def make_demo_video(out_path: str | os.PathLike, **options) -> None:
    """``video_demo.make_demo_video``, imported on first use: it needs numpy, which a
    serving process should not import while it starts (0.1–0.2 s)."""
    from .video_demo import make_demo_video as make

    make(out_path, **options)


CHUNK_BYTES = 1 << 20
ACCEPTED_NAMES = "an MP4, WebM or MOV video"
PLAYABLE = {  # container → (video codecs, audio codecs) browsers play as they are
    "mp4": ({"h264"}, {None, "aac"}),
    "webm": ({"vp8", "vp9", "av1"}, {None, "opus", "vorbis"}),
}
# ISO BMFF brands of files that are not videos (pictures, audio books) though FFmpeg opens them.
NOT_VIDEO_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis", b"M4A ", b"M4B "}
FIRST_FRAME_PACKETS = 120  # a decoder may need a few packets before its first frame
POSTER_SECONDS = 1.0
DEFAULT_MAX_SIDE = 1920


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe`` found. ``playable``: browsers play the file as it is (after ``remux``);
    otherwise it needs ``transcode_h264``. ``rotation``: degrees the player turns the picture."""

    container: str  # mp4 | webm | mov
    video_codec: str
    audio_codec: str | None
    width: int
    height: int
    duration: float
    playable: bool
    rotation: int = 0


def _damaged() -> VideoRefused:
    return VideoRefused("The video is damaged or incomplete: export it again and upload it "
                        "again.", 400)


def _not_video(what: str = "This file") -> VideoRefused:
    return VideoRefused(f"{what} is not a video: upload {ACCEPTED_NAMES}.", 415)


def save_upload(stream, directory: str | os.PathLike, max_bytes: int) -> Path:
    """Copy a binary stream into a new file in ``directory``, a chunk at a time; its path
    (the caller removes it). VideoRefused (413), and no file left, past ``max_bytes``."""
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise VideoRefused(f"The video is too large: the limit is "
                                       f"{max_bytes / 1_000_000:.0f} MB.", 413)
                out.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    if size == 0:
        os.unlink(name)
        raise VideoRefused("The file is empty.", 400)
    return Path(name)


def _container_kind(path: Path) -> str:
    """mp4, mov or webm from the file's first bytes; VideoRefused (415) for anything else."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in NOT_VIDEO_BRANDS:
            raise _not_video("This picture or audio file")
        return "mov" if brand == b"qt  " else "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):  # old QuickTime files start so
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or WebM, told by DocType
        at = head.find(b"\x42\x82")
        if at >= 0 and head[at + 2] & 0x80:  # a one-byte size, as every muxer writes it
            if head[at + 3:at + 3 + (head[at + 2] & 0x7F)] == b"webm":
                return "webm"
        raise VideoRefused(f"Matroska (MKV) files are not accepted: upload {ACCEPTED_NAMES}.",
                           415)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise _not_video("This web page or text file")
    raise _not_video()


def _check_boxes(path: Path) -> None:
    """An MP4/MOV whose top-level boxes do not end with the file was cut short: a box that
    reaches past the end, or no ``moov`` (the index) at all."""
    size, offset, seen = os.path.getsize(path), 0, set()
    with open(path, "rb") as f:
        while offset < size:
            f.seek(offset)
            header = f.read(16)
            if len(header) < 8:
                raise _damaged()
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if length == 1:
                if len(header) < 16:
                    raise _damaged()
                length = int.from_bytes(header[8:16], "big")
            elif length == 0:  # "to the end of the file"
                length = size - offset
            if length < 8 or offset + length > size:
                raise _damaged()
            seen.add(kind)
            offset += length
    if b"moov" not in seen:
        raise _damaged()


def _vint(data: bytes, at: int) -> tuple[int, int, bool]:
    """An EBML variable-length number at ``at``: its value, its length, whether it is the
    reserved "unknown" value (all ones: a live recording's open-ended segment)."""
    if at >= len(data) or data[at] == 0:
        raise _damaged()
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        raise _damaged()
    value = int.from_bytes(data[at:at + length], "big") & ((1 << (7 * length)) - 1)
    return value, length, value == (1 << (7 * length)) - 1


def _check_segment(path: Path) -> None:
    """A WebM whose Segment (all of its content) reaches past the end of the file was cut
    short. A segment of unknown size (a browser's recording) is checked by its packets."""
    with open(path, "rb") as f:
        head = f.read(4096)
    size, length, _ = _vint(head, 4)  # after the EBML header's four-byte ID
    at = 4 + length + size
    if head[at:at + 4] != b"\x18\x53\x80\x67":
        raise _damaged()
    size, length, unknown = _vint(head, at + 4)
    if not unknown and at + 4 + length + size > os.path.getsize(path):
        raise _damaged()


def probe(path: str | os.PathLike, *, max_seconds: float) -> VideoInfo:
    """Check a saved upload by its content: a complete MP4, WebM or MOV file with a video
    stream whose first frame decodes, at most ``max_seconds`` long. VideoRefused otherwise
    (415 not a video, 413 too long, 400 damaged)."""
    path = Path(path)
    kind = _container_kind(path)
    (_check_segment if kind == "webm" else _check_boxes)(path)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return _inspect(container, kind, max_seconds)
    except av.error.FFmpegError:
        raise _damaged() from None


def _inspect(container, kind: str, max_seconds: float) -> VideoInfo:
    if not container.streams.video:
        raise VideoRefused("This file has no picture, only sound: upload a video.", 415)
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    if video.codec_context is None:
        raise VideoRefused(f"The video is in a format we cannot play: upload {ACCEPTED_NAMES} "
                           "in H.264, HEVC, VP8, VP9 or AV1.", 415)
    declared = container.duration / av.time_base if container.duration else 0.0
    _refuse_long(declared, max_seconds)
    frame = _first_frame(container, video)
    last = _last_timestamp(container, video, max_seconds)
    if last <= 0 or (declared and last < declared * 0.9 - 1):  # packets stop before the end
        raise _damaged()
    duration = max(declared, last)
    codec = video.codec_context.name
    audio_codec = audio.codec_context.name if audio and audio.codec_context else None
    videos, audios = PLAYABLE.get(kind, (set(), set()))
    return VideoInfo(kind, codec, audio_codec, frame.width, frame.height, round(duration, 3),
                     codec in videos and audio_codec in audios,
                     int(getattr(frame, "rotation", 0) or 0) % 360)


def _refuse_long(seconds: float, max_seconds: float) -> None:
    if seconds > max_seconds:
        minutes = f"{max_seconds / 60:g} minutes" if max_seconds >= 60 else f"{max_seconds:g} s"
        raise VideoRefused(f"The video is too long: the limit is {minutes}.", 413)


def _first_frame(container, video):
    """The first decoded picture; VideoRefused (400) when the first packets decode to none."""
    container.seek(0)
    try:
        for n, packet in enumerate(container.demux(video)):
            for frame in packet.decode():
                return frame
            if n >= FIRST_FRAME_PACKETS:
                break
    except av.error.FFmpegError:
        pass
    raise VideoRefused("The video cannot be decoded: it is damaged, or in a format we cannot "
                       "play. Export it again as H.264 MP4 and upload it again.", 400)


def _last_timestamp(container, video, max_seconds: float) -> float:
    """The time of the last video packet, read to the end without decoding: a recording
    without a declared duration (a browser's WebM) gets one, a truncated file shows."""
    container.seek(0)
    last = 0.0
    for packet in container.demux(video):
        if packet.pts is not None and packet.time_base is not None:
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            last = max(last, end)
            _refuse_long(last, max_seconds)
    start = video.start_time * video.time_base if video.start_time and video.time_base else 0
    return last - float(start)


def _open_output(out_path, fmt: str):
    options = {"movflags": "+faststart"} if fmt == "mp4" else {}
    return av.open(str(out_path), "w", format=fmt, options=options)


def remux(path: str | os.PathLike, out_path: str | os.PathLike, info: VideoInfo) -> None:
    """Copy the first video and audio streams, not re-encoded, into a clean file: WebM for a
    WebM, MP4 otherwise (index first). Container and stream metadata (place, device, dates),
    chapters and other tracks stay behind; the picture's rotation is kept."""
    fmt = "webm" if info.container == "webm" else "mp4"
    try:
        with av.open(str(path), metadata_errors="ignore") as source, \
                _open_output(out_path, fmt) as out:
            streams = [source.streams.video[0]] + list(source.streams.audio[:1])
            mapping = {}
            for stream in streams:
                copy = out.add_stream_from_template(stream)
                copy.metadata.clear()  # the template brings language, handler, dates
                copy.time_base = stream.time_base
                mapping[stream.index] = copy
            if info.rotation:
                mapping[streams[0].index].set_display_rotation(info.rotation)
            for packet in source.demux(streams):
                if packet.dts is None:  # the flush packet at the end of each stream
                    continue
                packet.stream = mapping[packet.stream_index]
                out.mux(packet)
    except av.error.FFmpegError as e:
        raise _damaged() from e


def _even_fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def transcode_h264(path: str | os.PathLike, out_path: str | os.PathLike, *,
                   max_side: int = DEFAULT_MAX_SIDE) -> None:
    """Re-encode a video browsers cannot play (MOV, HEVC) into H.264 (+AAC) MP4 with the
    index first, no larger than ``max_side`` on its longest side; metadata stays behind."""
    try:
        with av.open(str(path), metadata_errors="ignore") as source, \
                _open_output(out_path, "mp4") as out:
            _transcode(source, out, max_side)
    except av.error.FFmpegError as e:
        raise _damaged() from e


def _transcode(source, out, max_side: int) -> None:
    video = source.streams.video[0]
    video.thread_type = "AUTO"
    audio = source.streams.audio[0] if source.streams.audio else None
    encoder = _h264_stream(out, _frame_at(source, video, 0.0), video, max_side)
    audio_out = out.add_stream("aac", rate=audio.rate or 48000) if audio else None
    resampler = (av.AudioResampler(format="fltp", layout="stereo", rate=audio_out.rate)
                 if audio else None)
    source.seek(0)
    for packet in source.demux([s for s in (video, audio) if s is not None]):
        for frame in packet.decode():
            if packet.stream.type == "video":
                frame = frame.reformat(encoder.width, encoder.height, "yuv420p")
                frame.pict_type = av.video.frame.PictureType.NONE  # the encoder chooses
                out.mux(encoder.encode(frame))
            else:
                for resampled in resampler.resample(frame):
                    out.mux(audio_out.encode(resampled))
    out.mux(encoder.encode(None))
    if audio_out is not None:
        out.mux(audio_out.encode(None))


def _h264_stream(out, first, video, max_side: int):
    """The H.264 stream for frames like ``first``, at most ``max_side``, keeping the source's
    frame rate, time base and rotation (as the player's turn, as the source had it)."""
    rate = video.average_rate or video.guessed_rate or Fraction(30)
    stream = out.add_stream("libx264", rate=rate)
    stream.width, stream.height = _even_fit(first.width, first.height, max_side)
    stream.pix_fmt = "yuv420p"
    stream.time_base = video.time_base or Fraction(1, 90000)
    stream.options = {"crf": "23", "preset": "veryfast", "profile": "high"}
    stream.thread_type = "AUTO"
    rotation = int(getattr(first, "rotation", 0) or 0)
    if rotation:
        stream.set_display_rotation(rotation)
    return stream


def poster_frame(path: str | os.PathLike) -> bytes:
    """A JPEG of the picture about a second in (the first for a shorter video), upright, for
    ``media.process_image``."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            video = container.streams.video[0]
            duration = container.duration / av.time_base if container.duration else 0.0
            at = POSTER_SECONDS if duration > 1.5 * POSTER_SECONDS else 0.0
            frame = _frame_at(container, video, at)
    except (av.error.FFmpegError, IndexError) as e:
        raise _damaged() from e
    image = frame.to_image()
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    if rotation:  # the display matrix turns counter-clockwise; PIL's rotate too
        image = image.rotate(rotation, expand=True)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _frame_at(container, video, seconds: float):
    """The first frame at or after ``seconds`` (or the last one before the end)."""
    if seconds > 0 and video.time_base:
        container.seek(int(seconds / video.time_base), stream=video, backward=True)
    found = None
    for frame in container.decode(video):
        found = frame
        if frame.time is None or frame.time >= seconds:
            break
    if found is None:
        raise _damaged()
    return found
