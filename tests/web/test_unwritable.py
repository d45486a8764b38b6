"""A full disk or an unwritable data directory: 503 pages, a clear operator log line, no
half-written record, and the app working again once space returns."""

from __future__ import annotations

import io
import logging
import re

import pytest
from PIL import Image

from idance_web import create_app
from idance_web import db as db_module
from idance_web.db_errors import DataUnwritable, DatabaseUnavailable, map_error
from idance_web.media_errors import StorageError
from idance_web.storage import LocalStorage
from tests.fixtures.app import build_app, make_config
from tests.fixtures.auth import PASSWORD, AuthActions, csrf_token

# The embedded engine's own words when its disk is full (surrealkv on a full tmpfs), and what
# it says for every write after that until the file is opened again.
DISK_FULL = ("The query was not executed due to a failed transaction. There was a problem with "
             "a datastore transaction: Log error: IO error: kind=no storage space, message=No "
             "space left on device (os error 28)")
FSYNC_FAILED = ("There was a problem with a datastore transaction: Log error: IO error: "
                "kind=other error, message=fsync failed")
OPEN_FAILED = ("Failed to create datastore: There was a problem with the underlying datastore: "
               "Log error: IO error: kind=no storage space, message=No space left on device "
               "(os error 28)")


@pytest.mark.parametrize("message", [DISK_FULL, FSYNC_FAILED, OPEN_FAILED])
def test_the_engines_io_errors_are_503_unavailable(message):
    error = map_error(message)
    assert isinstance(error, DataUnwritable) and isinstance(error, DatabaseUnavailable)


def test_a_value_that_looks_like_an_io_error_stays_the_persons_input():
    error = map_error("Found 'datastore IO error' for field `bio`, with record `profile:x`")
    assert not isinstance(error, DatabaseUnavailable)


# -- the media layer ---------------------------------------------------------------------------
class RefusingStorage(LocalStorage):
    """Local storage on a disk that fills up: while ``full``, the first write of a call
    succeeds and every later one is refused, as a disk filling mid-upload does."""

    def __init__(self, root):
        super().__init__(root)
        self.full = False
        self.writes = 0

    def put(self, key, data, content_type):
        self.writes += 1
        if self.full and self.writes > 1:
            raise StorageError("The image could not be stored: please try again.")
        super().put(key, data, content_type)


def _jpeg(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 700), color).save(out, "JPEG")
    return out.getvalue()


def _upload(client, data: bytes):
    return client.post("/me/profile/images/avatar", data={
        "csrf_token": csrf_token(client, "/me/profile"), "alt": "Alice dancing",
        "file": (io.BytesIO(data), "me.jpg")}, content_type="multipart/form-data")


def _uploads(app) -> list:
    with app.extensions["idance.db"].system() as s:
        return s.rows("SELECT key, bytes FROM upload")


def _files(root) -> list:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_refused_media_writes_answer_503_and_record_nothing_until_space_returns(
        tmp_path, caplog):
    app = build_app(make_config(media_root=str(tmp_path / "media")))
    storage = app.extensions["idance.storage"] = RefusingStorage(tmp_path / "media")
    client = app.test_client()
    AuthActions(client).signup("alice")
    try:
        storage.full = True
        refused = _upload(client, _jpeg((200, 30, 90)))
        assert refused.status_code == 503
        assert "could not be stored" in refused.get_data(as_text=True)  # next to the field
        assert storage.writes > 1  # one variant was written before the refusal
        assert _uploads(app) == [] and _files(tmp_path / "media") == []
        assert any("media storage refused a write" in r.getMessage() and r.levelno >= logging.ERROR
                   for r in caplog.records)
        assert 'class="avatar"' not in client.get("/me").get_data(as_text=True)

        storage.full, storage.writes = False, 0
        stored = _upload(client, _jpeg((200, 30, 90)))
        assert stored.status_code == 302
        rows = _uploads(app)
        assert rows and sorted(r["key"] for r in rows) == sorted(
            str(p.relative_to(tmp_path / "media")) for p in (tmp_path / "media").rglob("*")
            if p.is_file())
        assert 'class="avatar"' in client.get("/me").get_data(as_text=True)
    finally:
        app.extensions["idance.db"].close()


def test_an_upload_over_quota_leaves_no_files(tmp_path):
    app = build_app(make_config(media_root=str(tmp_path / "media"), media_quota_bytes=1000))
    client = app.test_client()
    AuthActions(client).signup("alice")
    try:
        response = _upload(client, _jpeg((10, 120, 200)))
        assert response.status_code == 413
        assert _uploads(app) == [] and _files(tmp_path / "media") == []
    finally:
        app.extensions["idance.db"].close()


# -- the database layer ------------------------------------------------------------------------
class Disk:
    """Makes the embedded engine behave as on a full disk: writes fail with its own error,
    and so does opening the data file again, until ``full`` is False."""

    WRITES = re.compile(r"\b(?:CREATE|UPDATE|UPSERT|DELETE|RELATE|INSERT)\b", re.I)

    def __init__(self, monkeypatch):
        self.full = False
        self.opened = 0
        real = db_module.Surreal
        disk = self

        class Connection:
            def __init__(self, url):
                if disk.full:
                    raise RuntimeError(OPEN_FAILED)
                disk.opened += 1
                self._real = real(url)

            def __getattr__(self, name):
                return getattr(self._real, name)

            def query_raw(self, sql, vars=None):
                if disk.full and self.WRITES.search(sql):
                    return {"result": [{"status": "ERR", "result": DISK_FULL}]}
                return self._real.query_raw(sql, vars)

            def signup(self, payload):
                if disk.full:
                    raise RuntimeError(DISK_FULL)
                return self._real.signup(payload)

            WRITES = Disk.WRITES

        monkeypatch.setattr(db_module, "Surreal", Connection)


def _members(app) -> tuple[int, int]:
    with app.extensions["idance.db"].system() as s:
        users = s.value("RETURN count(SELECT id FROM user)")
        profiles = s.value("RETURN count(SELECT id FROM profile)")
    return users, profiles


def _signup(client, username: str):
    return client.post("/signup", data={
        "email": f"{username}@example.com", "username": username, "display_name": "Bea",
        "password": PASSWORD, "csrf_token": csrf_token(client, "/signup")})


def test_a_full_disk_under_the_database_gives_503_pages_then_recovers(
        tmp_path, monkeypatch, caplog):
    disk = Disk(monkeypatch)
    app = build_app(make_config(db_url=f"surrealkv://{tmp_path}/idance.db"))
    client = app.test_client()
    try:
        before = _members(app)
        disk.full = True
        response = _signup(client, "bea")
        page = response.get_data(as_text=True)
        assert response.status_code == 503
        request_id = response.headers["X-Request-ID"]
        assert request_id in page  # the page names the request for the operator
        assert "os error" not in page and "datastore" not in page
        lines = [r.getMessage() for r in caplog.records if request_id in r.getMessage()]
        assert any("database cannot write its data" in line and "os error 28" in line
                   for line in lines)
        # The connection that failed is dropped; opening the file again fails while full.
        assert client.get("/healthz").status_code == 503
        assert client.get("/").status_code == 503

        disk.full = False  # space returns
        assert client.get("/healthz").status_code == 200
        assert _members(app) == before  # nothing half-written
        assert _signup(client, "bea").status_code == 302
        assert _members(app) == (before[0] + 1, before[1] + 1)
        assert disk.opened >= 2  # the data file was opened again, not the failed connection
    finally:
        app.extensions["idance.db"].close()


def test_an_unwritable_data_directory_is_503_with_the_reason_logged(tmp_path, caplog):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the data directory should be")
    app = create_app(make_config(db_url=f"surrealkv://{blocked}/sub/idance.db"))
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert str(blocked) not in response.get_data(as_text=True)
    assert any("database cannot write its data" in r.getMessage() and str(blocked) in
               r.getMessage() for r in caplog.records)


# -- a real small filesystem -------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs (mounting one needs root: skipped elsewhere), with ``fill()`` and
    ``free()``."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    filler = mount / "filler"

    class SmallDisk:
        path = mount

        def fill(self):
            with open(filler, "ab") as out:
                try:
                    while True:
                        out.write(b"\0" * 65536)
                        out.flush()
                except OSError:
                    pass

        def free(self):
            filler.unlink()

    try:
        yield SmallDisk()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_refuses_writes_whole_and_the_app_recovers(small_disk, caplog):
    """The engine keeps small commits in a buffer (they may be acknowledged on a full disk),
    so the database is tested with a write larger than that buffer."""
    from idance_web.db import Database

    root = small_disk.path
    app = build_app(make_config(db_url=f"surrealkv://{root}/idance.db",
                                media_root=str(root / "media")))
    client = app.test_client()
    db = app.extensions["idance.db"]
    large = {"v": "a" * 400_000}
    try:
        assert AuthActions(client).signup("alice").status_code == 302
        small_disk.fill()
        assert _upload(client, _jpeg((200, 30, 90))).status_code == 503
        with pytest.raises(DataUnwritable, match="os error 28|No space left|fsync"):
            with db.system() as s:
                s.query("CREATE note:big SET v = $v", large)
        assert db._conn is None  # dropped: the engine fails every later write until reopened

        small_disk.free()
        assert client.get("/healthz").status_code == 200
        assert _uploads(app) == []
        with db.system() as s:
            assert s.value("RETURN (SELECT VALUE id FROM note)") == []  # nothing half-written
            s.query("CREATE note:after SET v = $v", large)
        assert _upload(client, _jpeg((200, 30, 90))).status_code == 302
        assert _uploads(app)
    finally:
        db.close()
    db = Database(make_config(db_url=f"surrealkv://{root}/idance.db"))
    try:  # opened afresh, the file holds what was acknowledged
        with db.system() as s:
            assert [str(i) for i in s.value("RETURN (SELECT VALUE id FROM note)")] == [
                "note:after"]
            assert s.value("RETURN (SELECT VALUE username FROM user)") == ["alice"]
    finally:
        db.close()
