"""The backup file: one tar archive, written owner-only (0600).

- ``database.surql`` — the schema and rows (``dump.py``), importable by ``surreal import``;
- ``media/<key>`` — every stored media file, when media is on local storage;
- ``manifest.json`` — written last, so a truncated file has none: the format, the app's
  version, when, the namespace and database, the applied migrations, each table's row count
  and content hash, the SQL file's size and SHA-256, and each media file's size and SHA-256
  (for a bucket: its objects' sizes and ETags, which stay in the bucket).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tarfile
import tempfile
from typing import Callable

from .. import __version__
from ..config import Config
from ..db import Database
from .dump import Progress, dump

FORMAT = 1
SQL_NAME = "database.surql"
MANIFEST_NAME = "manifest.json"
MEDIA_DIR = "media/"
# What the file holds, by engine (``Database.embedded``): this process alone opens an embedded
# database, so holding its connection stops every write; a server's other processes go on.
CONSISTENCY = {
    True: ("point in time: every table was read while the backup held the database "
           "connection, so no write ran between the first table and the last"),
    False: ("not a snapshot: on a SurrealDB server other processes could write while the "
            "tables were read, one after another and a page at a time"),
}


class BackupError(RuntimeError):
    """A backup cannot be written, read or restored; the message says why and what to do."""


class _HashingWriter(io.TextIOBase):
    """Text written to a binary file, counted and hashed on the way."""

    def __init__(self, raw):
        self.raw, self.size, self.hash = raw, 0, hashlib.sha256()

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.raw.write(data)
        self.hash.update(data)
        self.size += len(data)
        return len(text)


def _file_sha256(path: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def local_media(root: str) -> dict[str, str]:
    """Media key → path of every stored file under ``root`` (temporary ``.part`` files and
    other dot-files left out)."""
    found = {}
    root = os.path.realpath(root)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = os.path.join(folder, name)
                found[os.path.relpath(path, root).replace(os.sep, "/")] = path
    return found


def bucket_media(config: Config) -> dict[str, dict]:
    """Key → size and ETag of every object in the configured bucket."""
    from ..storage import storage_from_config

    storage = storage_from_config(config)
    objects = {}
    for page in storage.client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket):
        for item in page.get("Contents", []):
            objects[item["Key"]] = {"bytes": item["Size"], "etag": item["ETag"].strip('"')}
    return objects


def _migrations(session) -> list[str]:
    if "migration" not in (session.value("INFO FOR DB") or {}).get("tables", {}):
        return []
    return sorted(session.value("SELECT VALUE name FROM migration") or [])


def write_backup(db: Database, path: str, progress: Progress | None = None,
                 log: Callable[[str], None] = lambda m: None, media: bool = True) -> dict:
    """Write a backup of ``db`` (and its media, unless ``media`` is false) to ``path``;
    return the manifest.

    The file appears whole or not at all (written beside it, then renamed), owner-only.
    """
    config = db.config
    folder = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(folder, mode=0o700, exist_ok=True)  # a folder it makes is owner-only too
    fd, sql_path = tempfile.mkstemp(dir=folder, prefix=".idance-backup-", suffix=".surql")
    tar_path = None
    try:
        with os.fdopen(fd, "wb") as raw:
            writer = _HashingWriter(raw)
            started = dt.datetime.now(dt.UTC)
            with db.system() as s:
                tables = dump(s, writer, progress)
                migrations = _migrations(s)
            paused = (dt.datetime.now(dt.UTC) - started).total_seconds()
            raw.flush()
            os.fsync(raw.fileno())
        log(f"database: {sum(t['rows'] for t in tables.values())} rows in {len(tables)} tables "
            f"({paused:.1f} s with writes paused)")
        manifest = {
            "format": FORMAT, "app": "idance", "app_version": __version__,
            "created_at": started.isoformat(), "namespace": config.db_namespace,
            "database": config.database, "migrations": migrations, "tables": tables,
            "consistency": CONSISTENCY[db.embedded], "write_pause_seconds": round(paused, 3),
            "sql": {"name": SQL_NAME, "bytes": writer.size, "sha256": writer.hash.hexdigest()},
        }
        fd, tar_path = tempfile.mkstemp(dir=folder, prefix=".idance-backup-", suffix=".tar")
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            tar.add(sql_path, arcname=SQL_NAME)
            manifest["media"] = _add_media(tar, config, log) if media else \
                {"backend": "none", "files": {}}
            data = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mtime, info.mode = len(data), int(started.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            tar.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tar_path, 0o600)
        os.replace(tar_path, path)
        tar_path = None
        return manifest
    finally:
        for leftover in (sql_path, tar_path):
            if leftover and os.path.exists(leftover):
                os.unlink(leftover)


def _add_media(tar: tarfile.TarFile, config: Config, log) -> dict:
    if (config.media_backend or "local").lower() != "local":
        objects = bucket_media(config)
        log(f"media: {len(objects)} objects listed in bucket {config.s3_bucket} (not copied)")
        return {"backend": "s3", "bucket": config.s3_bucket, "objects": objects}
    files = {}
    for key, path in local_media(config.media_root).items():
        size, sha = _file_sha256(path)
        tar.add(path, arcname=MEDIA_DIR + key, recursive=False)
        files[key] = {"bytes": size, "sha256": sha}
    log(f"media: {len(files)} files copied from {config.media_root}")
    return {"backend": "local", "files": files}
