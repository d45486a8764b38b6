"""Uploaded images: checked, re-encoded into metadata-free variants, and stored.

An upload is decoded only once its byte size, its type (from the content, never the name) and
its pixel count passed. Only fresh encodings named by their SHA-256 are stored, never the upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import struct
import tempfile
import zlib
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps

from .config import ConfigError
from .errors import NotFound, Refused

log = logging.getLogger(__name__)

ACCEPTED_FORMATS = ["JPEG", "PNG", "WEBP", "GIF"]
ACCEPTED_NAMES = "JPEG, PNG, WebP or GIF"
VARIANT_SIDES = {"large": 1200, "medium": 480, "thumb": 160}  # longest side, largest first
# Pages use WebP; the JPEG copy of `medium` is for readers without WebP: Outlook desktop
# (notification e-mails) and some link-preview crawlers reading og:image.
JPEG_FALLBACK = ("medium", "medium_jpeg")
WEBP_QUALITY = 80
JPEG_QUALITY = 85
MAX_ALT_CHARS = 300
CONTENT_TYPES = {"webp": "image/webp", "jpg": "image/jpeg"}
# Our keys look like img/ab/cdef….webp: lowercase segments, one dot, a known extension. No
# '..', backslash, NUL or absolute path can match.
KEY_PATTERN = re.compile(
    r"(?:[a-z0-9][a-z0-9_-]{0,127}/){0,4}[a-z0-9][a-z0-9_-]{0,127}\.(?:webp|jpg)"
)
IMMUTABLE = "public, max-age=31536000, immutable"  # a key names its content forever
DEFAULT_MEDIA_URL = "/media/"
KNOWN_OTHER_TYPES = [  # only for a friendlier refusal: Pillow decides what is accepted
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"8BPS", "Photoshop (PSD)"),
    (b"%!PS", "PostScript (EPS)"), (b"\xc5\xd0\xd3\xc6", "PostScript (EPS)"), (b"%PDF", "PDF"),
    (b"BM", "BMP"),
]
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class MediaError(Refused):
    """A refused upload or a storage failure: ``reason`` for the member, ``status`` for HTTP."""


class UploadTooLarge(MediaError):
    status = 413


class UnsupportedImage(MediaError):
    """Not a JPEG, PNG, WebP or GIF, or damaged (422)."""


class ImageTooLarge(MediaError):
    """Too many pixels (422)."""


class InvalidAlt(MediaError):
    """Missing or overlong alt text (422)."""


class MediaNotFound(MediaError, NotFound):
    status = 404


class StorageError(MediaError):
    status = 503


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


def _open(raw: bytes, max_pixels: int) -> Image.Image:
    if not raw:
        raise UnsupportedImage("The file is empty.")
    too_large = ImageTooLarge("The image is too large: use a picture of at most "
                              f"{max_pixels / 1_000_000:g} megapixels.")
    try:
        im = Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's global guard; its warning arrives as an exception where warnings are errors.
        raise too_large from None
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
    if width * height > max_pixels:
        raise too_large
    return im


def _to_srgb(im: Image.Image) -> Image.Image:
    """RGB or RGBA in sRGB: a colour profile is applied, then dropped with the metadata."""
    alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    icc = im.info.get("icc_profile")
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        # 16-bit grey: scale to 8 bits; a plain convert would clip everything above 255 to white.
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.mode not in ("RGB", "RGBA", "CMYK"):
        im = im.convert("RGBA" if alpha else "RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            im = ImageCms.profileToProfile(im, source, _SRGB,
                                           outputMode="RGBA" if alpha else "RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or exotic profile: the pixels as they are beat a refusal
    return im.convert("RGBA" if alpha else "RGB")


def _decode(im: Image.Image) -> tuple[Image.Image, bool]:
    """The first frame, decoded, upright, in sRGB; and whether it was turned a quarter."""
    if im.format == "JPEG":
        # libjpeg may decode at 1/2, 1/4 or 1/8 scale while still covering the largest variant.
        im.draft(None, (VARIANT_SIDES["large"], VARIANT_SIDES["large"]))
    try:
        im.load()  # the first frame only: no other frame of an animation is ever read
        decoded_size = im.size
        upright = ImageOps.exif_transpose(im)
        return _to_srgb(upright), upright.size != decoded_size
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error):
        raise UnsupportedImage("The image is damaged or incomplete: save it again and "
                               "upload it again.") from None


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


def process_image(data, *, max_bytes: int, max_pixels: int = 40_000_000,
                  alt: str) -> ProcessedImage:
    """Check an upload (bytes or a binary file object) and encode its variants.

    Raises UploadTooLarge (413), InvalidAlt, UnsupportedImage or ImageTooLarge (422).
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
    with _open(raw, max_pixels) as opened:
        width, height = opened.size
        im, turned = _decode(opened)
    if turned:
        width, height = height, width
    variants: dict[str, VariantInfo] = {}
    for name, side in VARIANT_SIDES.items():
        im = im.copy()
        im.thumbnail((side, side), Image.Resampling.LANCZOS)  # shrinks only, keeps the ratio
        variants[name] = _variant(im, "webp")
        if name == JPEG_FALLBACK[0]:
            variants[JPEG_FALLBACK[1]] = _variant(im, "jpg")
    return ProcessedImage(hashlib.sha256(raw).hexdigest(), width, height, alt, variants)


def guess_served_content_type(key: str) -> str:
    """The exact Content-Type of one of our keys; MediaNotFound (404) for any other string."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise MediaNotFound("No such file.")
    return CONTENT_TYPES[key.rsplit(".", 1)[1]]


class Storage(ABC):
    """Where variants live. Every method refuses a key outside KEY_PATTERN with MediaNotFound."""

    base_url = DEFAULT_MEDIA_URL

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` completely or not at all (StorageError)."""

    @abstractmethod
    def open(self, key: str) -> tuple[BinaryIO, str]:
        """A readable stream (the caller closes it) and its Content-Type; MediaNotFound."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    def url(self, key: str) -> str:
        """The URL a page uses to show ``key``."""
        guess_served_content_type(key)
        return self.base_url + key


class LocalStorage(Storage):
    """Files under ``root``, served by the app at ``base_url``."""

    def __init__(self, root: str | os.PathLike, base_url: str = DEFAULT_MEDIA_URL) -> None:
        self.root = os.path.realpath(os.fspath(root))
        self.base_url = base_url.rstrip("/") + "/"

    def _path(self, key: str) -> str:
        guess_served_content_type(key)  # first: a refused key never reaches the filesystem
        path = os.path.realpath(os.path.join(self.root, key))
        if os.path.commonpath([self.root, path]) != self.root:  # a symlink leading out
            raise MediaNotFound("No such file.")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path, tmp = self._path(key), None
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)  # public media; mkstemp's 0600 would hide it from a proxy
            os.replace(tmp, path)  # readers see no file or the whole file, never a part
        except OSError as e:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            log.error("storing %s failed: %s", key, e)
            raise StorageError("The image could not be stored: please try again.") from e

    def open(self, key: str) -> tuple[BinaryIO, str]:
        try:
            return open(self._path(key), "rb"), guess_served_content_type(key)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MediaNotFound("No such file.") from None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))


class S3Storage(Storage):
    """An S3-compatible bucket (R2, S3, MinIO). Without a public bucket URL the app serves
    the files itself through ``open``, at ``/media/``."""

    def __init__(self, bucket: str, endpoint_url: str | None, access_key_id: str,
                 secret_access_key: str, public_base_url: str = DEFAULT_MEDIA_URL, *,
                 region: str = "auto") -> None:
        import boto3  # here, so that a deployment on local storage does not need boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.base_url = public_base_url.rstrip("/") + "/"
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=BotoConfig(signature_version="s3v4", connect_timeout=5, read_timeout=30,
                              retries={"max_attempts": 3, "mode": "standard"}),
        )

    def _call(self, key: str, operation: str, **params) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        guess_served_content_type(key)
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, Key=key, **params)
        except (ClientError, BotoCoreError) as e:
            code = getattr(e, "response", {}).get("Error", {}).get("Code")
            if code in {"404", "NoSuchKey", "NotFound"}:
                raise MediaNotFound("No such file.") from None
            log.error("S3 %s %s failed: %s", operation, key, e)
            raise StorageError("Image storage is unavailable: please try again.") from e

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # One PUT is atomic on S3: the object appears whole or not at all.
        self._call(key, "put_object", Body=data, ContentType=content_type,
                   CacheControl=IMMUTABLE)

    def open(self, key: str) -> tuple[BinaryIO, str]:
        return self._call(key, "get_object")["Body"], guess_served_content_type(key)

    def delete(self, key: str) -> None:
        self._call(key, "delete_object")

    def exists(self, key: str) -> bool:
        try:
            self._call(key, "head_object")
        except MediaNotFound:
            return False
        return True


def storage_from_config(config) -> Storage:
    """The storage the settings choose: ``local`` (default) or ``s3``."""
    backend = (getattr(config, "media_backend", "") or "local").lower()
    media_url = getattr(config, "media_url", "") or DEFAULT_MEDIA_URL
    if backend == "local":
        return LocalStorage(config.media_root, media_url)
    if backend != "s3":
        raise ConfigError("IDANCE_MEDIA_BACKEND must be 'local' or 's3'")
    missing = [f"IDANCE_{name.upper()}" for name in ("s3_bucket", "s3_access_key_id",
               "s3_secret_access_key") if not getattr(config, name, "")]
    if missing:
        raise ConfigError(f"IDANCE_MEDIA_BACKEND=s3 needs {', '.join(missing)}")
    return S3Storage(
        config.s3_bucket, getattr(config, "s3_endpoint_url", "") or None,
        config.s3_access_key_id, config.s3_secret_access_key,
        getattr(config, "s3_public_url", "") or media_url,
        region=getattr(config, "s3_region", "") or "auto",
    )


def save_image(storage: Storage, processed: ProcessedImage) -> dict:
    """Store every variant or none (on failure, those this call stored are removed).

    Returns the record to keep in the database: ``ProcessedImage.record()``."""
    stored: list[str] = []
    try:
        for variant in processed.variants.values():
            # Same bytes, same key: an existing file may belong to another record too, so it
            # is neither written again nor ours to remove on failure.
            if storage.exists(variant.key):
                continue
            storage.put(variant.key, variant.data, variant.content_type)
            stored.append(variant.key)
    except BaseException:
        for key in stored:
            try:
                storage.delete(key)
            except Exception:  # keep the original error; a leftover is only wasted space
                log.exception("could not remove %s after a failed save", key)
        raise
    return processed.record()
