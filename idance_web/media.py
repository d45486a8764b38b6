"""Uploaded images: checked, re-encoded into metadata-free variants, and stored.

An upload is decoded only once its byte size, its type (from the content, never the name) and
its pixel count passed. Only fresh encodings named by their SHA-256 are stored, never the upload.
Decoding is bounded: a few images at a time per process, each held at full size at most once.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import math
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field

from PIL import ExifTags, Image, ImageCms

from .media_errors import (  # noqa: F401 - media's refusals are imported from here
    ImagesBusy, ImageTooLarge, InvalidAlt, MediaError, MediaNotFound, StorageError,
    UnsupportedImage, UploadTooLarge,
)

log = logging.getLogger(__name__)

ACCEPTED_FORMATS = ["JPEG", "PNG", "WEBP", "GIF"]
ACCEPTED_NAMES = "JPEG, PNG, WebP or GIF"
VARIANT_SIDES = {"large": 1200, "medium": 480, "thumb": 160}  # longest side, largest first
LARGEST = VARIANT_SIDES["large"]
# Pixel caps by how a file is decoded, so that one decode holds at most about 180 MB (peaks
# measured with Pillow 13 by bench/upload_memory.py). A sequential JPEG (what phones and
# cameras write) is decoded by libjpeg at 1/2 to 1/8 scale, never at full size: MAX_PIXELS,
# under Pillow's own bomb warning (89.5 MP), takes 64 MP phone photos.
MAX_PIXELS = 80_000_000
FULL_SIZE_CAPS = {  # formats decoded at full size, by the bytes a pixel costs at the peak
    "PNG": 32_000_000,  # 4 (RGBA) or fewer: 6K screenshots, 24 MP photos
    "GIF": 32_000_000,  # 1
    "JPEG": 25_000_000,  # progressive or multi-scan: libjpeg keeps every coefficient, 3 to 6
    "WEBP": 10_000_000,  # libwebp's canvas and frame, the copy it returns and ours: 16
}
JPEG_FORMATS = ("JPEG", "MPO")  # MPO: a JPEG with more pictures after it (depth, gain map)
REDUCING_GAP = 2.0  # as Image.thumbnail: a box-filter reduction keeps twice the final size
BAND_PIXELS = 1 << 20  # full-size pixels converted and reduced at a time
DECODE_WAIT_SECONDS = 30
# Pages use WebP; the JPEG copy of `medium` is for readers without WebP: Outlook desktop
# (notification e-mails) and some link-preview crawlers reading og:image.
JPEG_FALLBACK = ("medium", "medium_jpeg")
WEBP_QUALITY = 80
JPEG_QUALITY = 85
MAX_ALT_CHARS = 300
CONTENT_TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "mp4": "video/mp4",
                 "webm": "video/webm", "vtt": "text/vtt"}
# Our keys look like img/ab/cdef….webp: lowercase segments, one dot, a known extension. No
# '..', backslash, NUL or absolute path can match.
KEY_PATTERN = re.compile(
    r"(?:[a-z0-9][a-z0-9_-]{0,127}/){0,4}[a-z0-9][a-z0-9_-]{0,127}\.(?:webp|jpg|mp4|webm|vtt)"
)
IMMUTABLE = "public, max-age=31536000, immutable"  # a key names its content forever
DEFAULT_MEDIA_URL = "/media/"
KNOWN_OTHER_TYPES = [  # only for a friendlier refusal: Pillow decides what is accepted
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"8BPS", "Photoshop (PSD)"),
    (b"%!PS", "PostScript (EPS)"), (b"\xc5\xd0\xd3\xc6", "PostScript (EPS)"), (b"%PDF", "PDF"),
    (b"BM", "BMP"),
]
HASH_CHUNK_BYTES = 1 << 20
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class VariantInfo:
    key: str
    width: int
    height: int
    content_type: str
    size: int
    data: bytes = field(repr=False, compare=False, default=b"")


@dataclass(frozen=True)
class ProcessedImage:
    """``key`` is the SHA-256 of the upload; ``width``/``height`` its size once upright."""

    key: str
    width: int
    height: int
    alt: str
    variants: dict[str, VariantInfo]

    def record(self) -> dict:
        """What the database keeps: keys, sizes and alt text, no bytes."""
        record = asdict(self)
        for variant in record["variants"].values():
            del variant["data"]
        return record


class Decoders:
    """The threads that decode images, ``size`` of them: each decode may hold a full-size image,
    so their number bounds the memory uploads take. Dedicated threads rather than a semaphore:
    glibc keeps the memory a thread freed in that thread's arena, so decodes taking turns on
    every server thread would leave resident memory growing towards one decode per thread."""

    def __init__(self, size: int = 2, wait: float = DECODE_WAIT_SECONDS) -> None:
        if size < 1:
            raise ValueError("at least one decoding thread is needed")
        self.size, self.wait = size, wait
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="image-decode")

    def run(self, job, *args):
        """``job(*args)`` on a decoding thread, once one is free; its result or its exception.
        ImagesBusy (503) when none took the job up within ``wait`` seconds."""
        future = self._pool.submit(_decoding, job, *args)
        try:
            return future.result(timeout=self.wait)
        except FutureTimeout:
            if future.cancel():
                raise ImagesBusy("Many pictures are being processed right now: please try "
                                 "again in a moment.") from None
            return future.result()  # it started meanwhile


def _decoding(job, *args):
    """``job(*args)``, then the free pages of glibc's arenas back to the system (a few
    milliseconds; nothing where the C library has no ``malloc_trim``)."""
    try:
        return job(*args)
    finally:
        if _malloc_trim is not None:
            _malloc_trim(0)


try:
    _malloc_trim = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None

DEFAULT_DECODERS = Decoders()  # for callers outside the app (the demo loader); the app has its own

_TURNS = {  # EXIF orientation → the transpose that makes the picture upright
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}
_QUARTER_TURNS = {5, 6, 7, 8}


def _open(raw: bytes, max_pixels: int) -> Image.Image:
    if not raw:
        raise UnsupportedImage("The file is empty.")
    try:
        im = Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's global guard; its warning arrives as an exception where warnings are errors.
        raise _too_large(_bomb_cap(raw, max_pixels)) from None
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        head = raw[:64]
        name = next((name for magic, name in KNOWN_OTHER_TYPES if head.startswith(magic)), "")
        if head[4:8] == b"ftyp":
            name = "HEIC/AVIF"
        elif head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            name = "SVG and HTML"
        raise UnsupportedImage(f"{name} files are not accepted: upload a {ACCEPTED_NAMES} image."
                               if name else f"This file is not a {ACCEPTED_NAMES} image.") from None
    width, height = im.size  # Pillow refuses a zero width or height itself
    # Our own per-call limit, checked on the header before any pixel is decoded: the global
    # Image.MAX_IMAGE_PIXELS cannot be set per request in a threaded server.
    cap = _pixel_cap(im, raw, max_pixels)
    if width * height > cap:
        im.close()
        raise _too_large(cap)
    return im


def _pixel_cap(im: Image.Image, raw: bytes, max_pixels: int) -> int:
    """``max_pixels``, or the lower cap of a file decoded at full size."""
    if im.format in JPEG_FORMATS:
        if _jpeg_decodes_scaled(raw, im.layers):
            return max_pixels
        return min(max_pixels, FULL_SIZE_CAPS["JPEG"])
    return min(max_pixels, FULL_SIZE_CAPS[im.format])


def _bomb_cap(raw: bytes, max_pixels: int) -> int:
    """The cap to name when Pillow's own guard refused a file before its format was known."""
    if raw.startswith(b"\xff\xd8"):
        return max_pixels
    kind = "WEBP" if raw[8:12] == b"WEBP" else "GIF" if raw.startswith(b"GIF") else "PNG"
    return min(max_pixels, FULL_SIZE_CAPS[kind])


def _too_large(max_pixels: int) -> ImageTooLarge:
    return ImageTooLarge("The image is too large: use a picture of at most "
                         f"{max_pixels / 1_000_000:g} megapixels.")


def _jpeg_decodes_scaled(raw: bytes, components: int) -> bool:
    """Whether libjpeg can decode this JPEG at a reduced scale a few rows at a time: a
    sequential Huffman frame (SOF0/SOF1) whose first scan holds every component. Any other
    (progressive, components in separate scans, lossless, arithmetic) makes libjpeg keep every
    DCT coefficient of the whole image, whatever the output scale."""
    frame, offset = None, 2
    while offset + 4 < len(raw) and raw[offset] == 0xFF:
        marker = raw[offset + 1]
        if marker == 0xFF:  # a fill byte
            offset += 1
            continue
        if marker == 0xDA:  # start of the first scan: its component count follows the length
            return frame in (0xC0, 0xC1) and raw[offset + 4] == components
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            frame = marker
        offset += 2 + int.from_bytes(raw[offset + 2:offset + 4], "big")
    return False


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` shrunk (never enlarged) to fit ``side`` × ``side``, rounded as
    ``Image.thumbnail`` rounds, so that a later ``thumbnail`` to ``side`` leaves it alone."""
    width, height = size
    if width <= side and height <= side:
        return size
    aspect = width / height
    if aspect <= 1:
        n = side * aspect
        return max(1, min(math.floor(n), math.ceil(n), key=lambda w: abs(aspect - w / side))), side
    n = side / aspect
    return side, max(1, min(math.floor(n), math.ceil(n),
                            key=lambda h: abs(aspect - side / h) if h else math.inf))


def _working_mode(im: Image.Image, alpha: bool) -> Image.Image:
    """RGB, CMYK (until its profile is applied) or premultiplied RGBa, so that averaging
    pixels never darkens the edges of transparent areas."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        # 16-bit grey: scale to 8 bits; a plain convert would clip everything above 255 to white.
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if alpha:
        return im.convert("RGBA").convert("RGBa")
    return im if im.mode in ("RGB", "CMYK") else im.convert("RGB")


def _shrink(im: Image.Image, alpha: bool) -> Image.Image:
    """``im`` in its working mode, made smaller a band of rows at a time, so that no second
    full-size image exists: reduced by a whole factor (a box filter) while it stays
    REDUCING_GAP times the largest variant, as ``thumbnail`` reduces; or else resampled to the
    largest variant's size at once. ``im`` itself when it needs no conversion nor reduction."""
    width, height = im.size
    factor = max(1, int(max(width, height) / LARGEST / REDUCING_GAP))
    if factor == 1 and not alpha and im.mode in ("RGB", "CMYK"):
        return im  # `thumbnail` resamples it in place
    if factor > 1:
        size, scale, margin = (-(-width // factor), -(-height // factor)), factor, 0
    else:
        size = _fit(im.size, LARGEST)
        if size == im.size:
            return _working_mode(im, alpha)
        # Lanczos reads three pixels on each side, widened by the scale when shrinking.
        scale = height / size[1]
        margin = math.ceil(3 * scale) + 1
    step = max(1, int(BAND_PIXELS / width / scale))  # output rows a band makes
    out = None
    for y0 in range(0, size[1], step):
        y1 = min(size[1], y0 + step)
        top = max(0, math.floor(y0 * scale) - margin)
        band = im.crop((0, top, width, min(height, math.ceil(y1 * scale) + margin)))
        band = _working_mode(band, alpha)
        if factor > 1:
            band = band.reduce(factor)  # whole blocks: the same pixels as reducing all at once
        else:  # the box places the band's rows; the filter reads the margin around them
            band = band.resize((size[0], y1 - y0), Image.Resampling.LANCZOS,
                               box=(0, y0 * scale - top, width, y1 * scale - top))
        if out is None:
            out = Image.new(band.mode, size)
        out.paste(band, (0, y0))
    return out


def _to_srgb(im: Image.Image, icc: bytes | None, alpha: bool) -> Image.Image:
    """RGB or RGBA in sRGB: a colour profile is applied, then dropped with the metadata."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            im = ImageCms.profileToProfile(im, source, _SRGB,
                                           outputMode="RGBA" if alpha else "RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or exotic profile: the pixels as they are beat a refusal
    return im.convert("RGBA" if alpha else "RGB")


def _decode(im: Image.Image) -> tuple[Image.Image, bool]:
    """The first frame at the largest variant's size, upright, in sRGB; and whether it was
    turned a quarter. The full-size pixels exist once at most and are freed before the return;
    what follows works on the reduced image."""
    if im.format in JPEG_FORMATS:
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale while still covering the largest variant.
        im.draft(None, _fit(im.size, LARGEST))
    small = None
    try:
        im.load()  # the first frame only: no other frame of an animation is ever read
        alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
        icc = im.info.get("icc_profile")
        orientation = im.getexif().get(ExifTags.Base.Orientation)
        small = _shrink(im, alpha)
        small.thumbnail((LARGEST, LARGEST), Image.Resampling.LANCZOS)  # in place
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error):
        raise UnsupportedImage("The image is damaged or incomplete: save it again and "
                               "upload it again.") from None
    finally:
        if small is not im:
            im.close()  # the full-size pixels go now, not when the caller lets go of `im`
    if small.mode == "RGBa":
        small = small.convert("RGBA")
    if orientation in _TURNS:
        small = small.transpose(_TURNS[orientation])
    return _to_srgb(small, icc, alpha), orientation in _QUARTER_TURNS


def _variant(im: Image.Image, ext: str) -> VariantInfo:
    """A fresh encoding of ``im``, named by the SHA-256 of its bytes: ``img/ab/cdef….ext``."""
    im.info = {}  # encoders copy some metadata (a JPEG comment, say) from info
    if ext == "jpg" and im.mode == "RGBA":  # no alpha in JPEG: flatten on white, as pages show it
        flat = Image.new("RGB", im.size, "white")
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    buffer = io.BytesIO()
    if ext == "webp":
        im.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        im.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    return VariantInfo(f"img/{digest[:2]}/{digest[2:]}.{ext}", im.width, im.height,
                       CONTENT_TYPES[ext], len(data), data)


def file_key(path, ext: str, prefix: str = "vid") -> str:
    """The content address of a stored file (a video, a caption file): the SHA-256 of its
    bytes, read a chunk at a time, as ``vid/ab/cdef….ext``."""
    if ext not in CONTENT_TYPES:
        raise ValueError(f"no content type for .{ext}")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    hexdigest = digest.hexdigest()
    return f"{prefix}/{hexdigest[:2]}/{hexdigest[2:]}.{ext}"


def process_image(data, *, max_bytes: int, max_pixels: int = MAX_PIXELS, alt: str,
                  decoders: Decoders | None = None) -> ProcessedImage:
    """Check an upload (bytes or a binary file object) and encode its variants.

    ``max_pixels`` caps every format; those decoded at full size have lower caps
    (FULL_SIZE_CAPS). Decoding runs on one of the threads of ``decoders`` (DEFAULT_DECODERS
    without it). Raises UploadTooLarge (413), InvalidAlt, UnsupportedImage or ImageTooLarge
    (422), or ImagesBusy (503) when no decoding thread was free in time.
    """
    # From a stream, one byte past the cap is enough to know: never read all of a huge upload.
    raw = data if isinstance(data, (bytes, bytearray, memoryview)) else data.read(max_bytes + 1)
    if len(raw) > max_bytes:
        limit = f"{max_bytes / 1_048_576:.3g} MB"
        raise UploadTooLarge(f"The image is too large: the limit is {limit}.")
    alt = " ".join(alt.split()) if isinstance(alt, str) else ""
    if not alt:
        raise InvalidAlt("Describe the image in a few words for people who cannot see it.")
    if len(alt) > MAX_ALT_CHARS:
        raise InvalidAlt(f"Keep the image description under {MAX_ALT_CHARS} characters.")
    raw = bytes(raw)
    im = _open(raw, max_pixels)  # the header only: a refused file never waits for a thread
    width, height = im.size
    variants, turned = (decoders or DEFAULT_DECODERS).run(_variants, im)
    if turned:
        width, height = height, width
    return ProcessedImage(hashlib.sha256(raw).hexdigest(), width, height, alt, variants)


def _variants(opened: Image.Image) -> tuple[dict[str, VariantInfo], bool]:
    """Every variant of an opened image; and whether it was turned a quarter."""
    im, turned = _decode(opened)
    variants: dict[str, VariantInfo] = {}
    for name, side in VARIANT_SIDES.items():
        im.thumbnail((side, side), Image.Resampling.LANCZOS)  # shrinks only, keeps the ratio
        variants[name] = _variant(im, "webp")
        if name == JPEG_FALLBACK[0]:
            variants[JPEG_FALLBACK[1]] = _variant(im, "jpg")
    return variants, turned
