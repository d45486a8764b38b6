"""Restoring a backup into an empty database, and checking that it reproduces the original.

Everything that can be checked before a write is checked first, so a refused restore changes
nothing: the file is a complete backup (its manifest, written last, is there; the SQL and
every media file match their sizes and hashes), this version of the app knows every migration
it records and is not older than the app that wrote it, and the target database is empty.

Rows go in with ``OPTION IMPORT`` (the first statement of every call), as ``surreal import``
does: on this engine fields are not computed again (``VALUE time::now()`` keeps the stored
time, ``ASSERT`` and ``READONLY`` are not checked) and events do not fire (no notification,
counter, owner row or job is made twice). Indexes are built as the rows go in.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from typing import Callable, Iterator

from .. import __version__
from ..db import Database
from ..migrate import discover
from .archive import FORMAT, MANIFEST_NAME, MEDIA_DIR, SQL_NAME, BackupError
from .dump import RULE, Progress, dump

_DEFINITIONS_PER_CALL = 200
_FEED = re.compile(r" CHANGEFEED \S+(?: INCLUDE ORIGINAL)?")


def _open(path: str) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:")
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not an iDance backup, or it is damaged ({exc})") from None


def _member_sha256(tar: tarfile.TarFile, name: str) -> tuple[int, str]:
    handle = tar.extractfile(name)
    if handle is None:
        raise BackupError(f"{name} is missing from the backup")
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _version(text: str) -> tuple:
    """``1.2.3`` as (1, 2, 3); anything unreadable counts as newer than every version."""
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return (float("inf"),)


def _check_version(manifest: dict) -> None:
    known = {m.name for m in discover()}
    unknown = [m for m in manifest.get("migrations", []) if m not in known and m != "data:lookup"]
    newer = _version(str(manifest.get("app_version", ""))) > _version(__version__)
    if unknown or newer:
        what = f"migrations {', '.join(unknown)}" if unknown else "its version"
        raise BackupError(
            f"the backup was made by a newer iDance ({manifest.get('app_version')}, {what}) "
            f"than this one ({__version__}): upgrade iDance, then restore")


def read_backup(path: str) -> tuple[dict, tarfile.TarFile]:
    """The backup's manifest and its open archive, once every part checked out."""
    tar = _open(path)
    try:
        try:
            manifest = json.load(tar.extractfile(MANIFEST_NAME))
        except KeyError:
            raise BackupError(f"{path} is incomplete (no manifest: truncated?)") from None
        except (ValueError, tarfile.TarError, OSError) as exc:
            raise BackupError(f"{path}: the manifest is damaged ({exc})") from None
        if manifest.get("app") != "idance" or manifest.get("format", 0) > FORMAT:
            raise BackupError(f"{path} is not a backup this version of iDance can read")
        _check_version(manifest)
        expected = manifest["sql"]
        if _member_sha256(tar, SQL_NAME) != (expected["bytes"], expected["sha256"]):
            raise BackupError(f"{path}: {SQL_NAME} does not match its hash (damaged file)")
        for key, meta in manifest.get("media", {}).get("files", {}).items():
            if _member_sha256(tar, MEDIA_DIR + key) != (meta["bytes"], meta["sha256"]):
                raise BackupError(f"{path}: media file {key} does not match its hash")
    except (tarfile.TarError, OSError, KeyError, TypeError) as exc:
        tar.close()
        raise BackupError(f"{path} is damaged or truncated ({exc})") from None
    except BaseException:
        tar.close()
        raise
    return manifest, tar


def statements(lines: Iterator[bytes]) -> Iterator[tuple[str, str]]:
    """(kind, SurrealQL) pieces of a dump: ``definitions`` (one section's statements, which
    may span lines) and ``rows`` (one ``INSERT`` line of a ``TABLE DATA`` section)."""
    pending: list[str] = []
    data = False
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\n")
        if line == RULE or (line.startswith("-- ") and not pending):
            if line.startswith("-- TABLE DATA: ") or line.startswith("-- TABLE: "):
                data = line.startswith("-- TABLE DATA: ")
            elif line != RULE and not line.startswith("-- USERS"):
                data = False
            continue
        if data:
            if line.startswith("INSERT "):
                yield "rows", line
            elif line.strip():
                raise BackupError(f"unexpected line in a data section: {line[:80]!r}")
            continue
        if not line.strip() and pending and pending[-1].endswith(";"):
            yield "definitions", "\n".join(pending)
            pending = []
        elif line.strip():
            pending.append(line)
    if pending:
        yield "definitions", "\n".join(pending)


def _empty(session) -> None:
    info = session.value("INFO FOR DB") or {}
    used = {k: len(v) for k, v in info.items() if isinstance(v, dict) and v}
    if used:
        held = ", ".join(f"{n} {k}" for k, n in sorted(used.items()))
        raise BackupError(f"the target database is not empty ({held}): restore only into "
                          "an empty database (a new data file, or a new database name)")


def _without_feed(sql: str, later: list[str]) -> str:
    """``sql`` with each table's change feed left out; the table definitions as they were go
    to ``later``, applied once the rows are in. A row inserted into a table with a feed also
    writes a feed entry (its whole value), and the embedded engine never trims its feed (no
    task of its runs the clean-up): a restore would keep a second copy of those tables for
    good, which every start reads again (docs/architecture.md, Start-up)."""
    lines = []
    for line in sql.split("\n"):
        if line.startswith("DEFINE TABLE ") and _FEED.search(line):
            later.append(line if line.startswith("DEFINE TABLE OVERWRITE ")
                         else line.replace("DEFINE TABLE ", "DEFINE TABLE OVERWRITE ", 1))
            line = _FEED.sub("", line, count=1)
        lines.append(line)
    return "\n".join(lines)


def _load(db: Database, tar: tarfile.TarFile, progress: Callable[[int, int], None] | None) -> None:
    handle = tar.extractfile(SQL_NAME)
    size = tar.getmember(SQL_NAME).size
    feeds: list[str] = []
    with db.system() as s:
        _empty(s)
        for kind, sql in statements(iter(handle.readline, b"")):
            if sql.strip() == "OPTION IMPORT;":
                continue
            if kind == "rows":  # the inserted rows need not come back: a third of the time
                sql = sql.rstrip().removesuffix(";") + " RETURN NONE;"
            else:
                sql = _without_feed(sql, feeds)
            s.query("OPTION IMPORT;\n" + sql)
            if kind == "rows" and progress:
                progress(handle.tell(), size)
        for definition in feeds:  # the feeds start now: the hub starts at the present anyway
            s.query(definition)
    if progress:
        progress(size, size)


def _media(tar: tarfile.TarFile, manifest: dict, storage) -> int:
    written = 0
    for key in manifest.get("media", {}).get("files", {}):
        if storage.exists(key):
            continue
        storage.put(key, tar.extractfile(MEDIA_DIR + key).read(), "application/octet-stream")
        written += 1
    return written


def compare(db: Database, manifest: dict) -> list[str]:
    """Tables whose row count or content hash differ from the manifest's (empty: equal)."""
    with db.system() as s:
        found = dump(s, None)
    differ = []
    for name in sorted(set(found) | set(manifest["tables"])):
        want, got = manifest["tables"].get(name), found.get(name)
        if want != got:
            differ.append(f"{name}: backup {want or 'absent'}, restored {got or 'absent'}")
    return differ


def restore(db: Database, path: str, storage=None, progress: Progress | None = None,
            log: Callable[[str], None] = lambda m: None) -> dict:
    """Restore the backup at ``path`` into the empty database ``db`` (and its media files
    into ``storage``, when given and the backup holds them); return the manifest.

    Raises ``BackupError`` before any change when the file or the target is refused, and
    after the load when the restored tables differ from the backup's.
    """
    manifest, tar = read_backup(path)
    with tar:
        total = sum(t["rows"] for t in manifest["tables"].values())
        _load(db, tar, (lambda done, size: progress(f"{SQL_NAME} (bytes)", done, size))
              if progress else None)
        log(f"database: {total} rows in {len(manifest['tables'])} tables restored")
        if storage is not None and manifest.get("media", {}).get("backend") == "local":
            log(f"media: {_media(tar, manifest, storage)} files written")
    differ = compare(db, manifest)
    if differ:
        raise BackupError("the restored database differs from the backup: " + "; ".join(differ))
    return manifest


def verify(path: str, config) -> dict:
    """Restore the backup into a scratch in-memory database and compare; return the manifest."""
    scratch = Database(config.with_overrides(db_url="mem://"))
    try:
        return restore(scratch, path)
    finally:
        scratch.close()
