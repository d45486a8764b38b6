"""Where media lives: a folder of the app's (the default) or an S3-compatible bucket.

Keys are content-addressed and made by ``media.py``; backends store, open, delete and name
them, and never see a name that did not come from there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import replace
from typing import BinaryIO

from .config import ConfigError
from .media import CONTENT_TYPES, DEFAULT_MEDIA_URL, IMMUTABLE, KEY_PATTERN, ProcessedImage
from .media_errors import MediaNotFound, StorageError

log = logging.getLogger(__name__)
PRIVATE_IMMUTABLE = "private, max-age=31536000, immutable"


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
    def put_file(self, key: str, path: str | os.PathLike, content_type: str) -> None:
        """Store the file at ``path`` (left in place) under ``key``, streamed, never read
        whole into memory; completely or not at all (StorageError)."""

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

    def signed_url(self, key: str, expires_seconds: int) -> str | None:
        """A URL that lets its holder read ``key`` for ``expires_seconds``, for media that is
        not public; None where the app itself serves the file (local storage)."""
        guess_served_content_type(key)
        return None


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
        self._write(key, lambda out: out.write(data))

    def put_file(self, key: str, path: str | os.PathLike, content_type: str) -> None:
        def copy(out) -> None:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)

        self._write(key, copy)

    def _write(self, key: str, write) -> None:
        """``write(file)`` into a temporary file beside ``key``'s, renamed into place."""
        path, tmp = self._path(key), None
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".part")
            with os.fdopen(fd, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)  # public media; mkstemp's 0600 would hide it from a proxy
            os.replace(tmp, path)  # readers see no file or the whole file, never a part
        except OSError as e:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            log.error("storing %s failed: %s", key, e)
            raise StorageError("The file could not be stored: please try again.") from e

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
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        guess_served_content_type(key)
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, Key=key, **params)
        except (ClientError, BotoCoreError, S3UploadFailedError) as e:
            code = getattr(e, "response", {}).get("Error", {}).get("Code")
            if code in {"404", "NoSuchKey", "NotFound"}:
                raise MediaNotFound("No such file.") from None
            log.error("S3 %s %s failed: %s", operation, key, e)
            raise StorageError("Media storage is unavailable: please try again.") from e

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # One PUT is atomic on S3: the object appears whole or not at all.
        self._call(key, "put_object", Body=data, ContentType=content_type,
                   CacheControl=IMMUTABLE)

    def put_file(self, key: str, path: str | os.PathLike, content_type: str) -> None:
        # upload_file sends a large file in parts and completes the object only at the end.
        # `private`: a bucket's or CDN's shared cache keeps no copy of a non-public video.
        guess_served_content_type(key)
        self._call(key, "upload_file", Filename=os.fspath(path), ExtraArgs={
            "ContentType": content_type, "CacheControl": PRIVATE_IMMUTABLE})

    def signed_url(self, key: str, expires_seconds: int) -> str | None:
        guess_served_content_type(key)
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=int(expires_seconds))

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


def prefix_keys(processed: ProcessedImage, prefix: str) -> ProcessedImage:
    """The same image with ``prefix`` before every variant's key (``vlog/``: files served only
    through their vlog's checked route)."""
    for name, variant in list(processed.variants.items()):
        if not variant.key.startswith(prefix):
            processed.variants[name] = replace(variant, key=prefix + variant.key)
    return processed


def save_image(storage: Storage, processed: ProcessedImage, prefix: str = "") -> dict:
    """Store every variant or none (on failure, those this call stored are removed); with
    ``prefix``, under keys that start with it (``prefix_keys``).

    Returns the record to keep in the database: ``ProcessedImage.record()``."""
    prefix_keys(processed, prefix)
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
