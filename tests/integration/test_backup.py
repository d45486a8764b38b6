"""``idance backup`` / ``restore`` / ``backup --verify`` on the demo community, every table."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import threading

import pytest

from idance_web import create_app
from idance_web.backup import BackupError, compare, restore, verify, write_backup
from idance_web.backup.restore import statements
from idance_web.db import Database
from idance_web.demo import DEMO_PASSWORD, load_demo
from idance_web.migrate import Runner, discover
from tests.fixtures.app import COMPILED_TEMPLATES, make_config
from tests.fixtures.auth import AuthActions
from tests.fixtures.every_table import use_every_table


@pytest.fixture(scope="module")
def demo_backup(tmp_path_factory):
    """The demo community and its backup, made once for the module."""
    config = make_config()
    from tests.fixtures.app import build_app

    app = build_app(config)
    db = app.extensions["idance.db"]
    load_demo(db, config)
    use_every_table(app, db, tmp_path_factory.mktemp("clip"))
    path = str(tmp_path_factory.mktemp("backup") / "idance.backup")
    manifest = write_backup(db, path)
    with db.system() as s:
        tables = sorted(s.value("INFO FOR DB")["tables"])
        users = s.rows("SELECT id, created_at, email FROM user ORDER BY id")
        notifications = s.value("RETURN count(SELECT id FROM notification)")
    yield {"path": path, "manifest": manifest, "tables": tables, "users": users,
           "notifications": notifications, "config": config, "db": db}
    db.close()


def _empty_db(config=None) -> Database:
    return Database(config or make_config())


def _info_is_empty(db: Database) -> bool:
    with db.system() as s:
        return not any(v for v in s.value("INFO FOR DB").values())


def _rewrite(path: str, target: str, change) -> None:
    """Copy the backup at ``path`` to ``target`` with one member's bytes changed."""
    with tarfile.open(path) as src, tarfile.open(target, "w") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            data = change(member.name, data)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def test_the_backup_holds_every_table_owner_only_and_no_keys(demo_backup):
    manifest, path = demo_backup["manifest"], demo_backup["path"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(manifest["tables"]) == demo_backup["tables"]
    assert manifest["tables"]["user"]["rows"] == len(demo_backup["users"]) >= 60
    assert manifest["migrations"] == [m.name for m in discover()]
    assert manifest["media"]["backend"] == "local"
    # One moment only where this process alone writes: the embedded engine.
    assert manifest["consistency"].startswith("point in time") == demo_backup["db"].embedded
    with tarfile.open(path) as tar:
        names = tar.getnames()
        sql = tar.extractfile("database.surql").read().decode()
    assert names[0] == "database.surql" and names[-1] == "manifest.json"
    assert len(names) == 2 + len(manifest["media"]["files"])
    # The shape of `surreal export`: the option, definitions, then each table and its rows.
    assert sql.startswith("-- ------------------------------\n-- OPTION\n")
    assert "OPTION IMPORT;" in sql and "-- TABLE: user\n" in sql
    assert "-- TABLE DATA: user\n" in sql and "\nINSERT [ { " in sql
    assert "\nINSERT RELATION [ { " in sql  # follow, swipe, … are relations
    assert "DEFINE ACCESS" not in sql and "DEFINE USER" not in sql
    assert demo_backup["config"].db_jwt_key not in sql and "PASSHASH" not in sql
    kinds = [kind for kind, _ in statements(iter(io.BytesIO(sql.encode()).readline, b""))]
    assert kinds.count("rows") >= len([t for t in manifest["tables"].values() if t["rows"]])


def test_restore_reproduces_the_demo_and_its_member_signs_in(demo_backup):
    # Every table the database defines has rows in the round trip: a table with none would
    # pass the comparison below untested.
    rows = demo_backup["manifest"]["tables"]
    assert [t for t in demo_backup["tables"] if not rows[t]["rows"]] == []
    config = make_config()
    app = create_app(config)  # a fresh, empty database
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    db = app.extensions["idance.db"]
    try:
        manifest = restore(db, demo_backup["path"])
        assert compare(db, manifest) == []
        with db.system() as s:
            restored = s.rows("SELECT id, created_at, email FROM user ORDER BY id")
            for table, expected in manifest["tables"].items():
                rows = s.value(f"RETURN count(SELECT id FROM `{table}`)")
                assert rows == expected["rows"], table
        # VALUE time::now() fields kept their stored values.
        assert restored == demo_backup["users"]
        Runner(db, lookup=lambda s, log: None).run(log=lambda m: None)  # access keys back
        client = app.test_client()
        email = demo_backup["users"][0]["email"]
        response = AuthActions(client).login(email=email, password=DEMO_PASSWORD)
        assert response.status_code == 302
        with db.system() as s:
            username = s.value("SELECT VALUE username FROM ONLY user:demo_000")
        page = client.get(f"/@{username}")
        assert page.status_code == 200
        assert client.get("/me").status_code == 200
    finally:
        db.close()


def test_import_semantics_no_event_fires_again(demo_backup):
    """OPTION IMPORT is what keeps events quiet: the same rows without it make notifications."""
    db = _empty_db()
    try:
        restore(db, demo_backup["path"])
        with db.system() as s:
            assert s.value("RETURN count(SELECT id FROM notification)") == \
                demo_backup["notifications"]
            follow = s.value("SELECT VALUE <string> $this FROM follow LIMIT 1")[0]
            s.query("DELETE follow; DELETE notification")
            s.query(f"OPTION IMPORT; INSERT RELATION [ {follow} ]")
            assert s.value("RETURN count(SELECT id FROM notification)") == 0
            s.query("DELETE follow")
            s.query(f"INSERT RELATION [ {follow} ]")  # events fire without the option
            assert s.value("RETURN count(SELECT id FROM notification)") == 1
    finally:
        db.close()


def test_restored_rows_leave_no_feed_history_and_the_feeds_follow_what_comes(demo_backup):
    """The embedded engine never trims its change feed: rows restored into tables with a feed
    would each write a feed entry kept for good. The tables get their feeds back afterwards,
    as the backup defined them, and record the next change."""
    db = _empty_db()
    try:
        restore(db, demo_backup["path"])
        with db.system() as s:
            info = s.value("INFO FOR DB")["tables"]
            feed = s.value("SHOW CHANGES FOR DATABASE SINCE 0 LIMIT 1000")
            s.query("UPDATE user:demo_000 SET display_name = 'After the restore'")
            after = s.value("SHOW CHANGES FOR TABLE user SINCE 0 LIMIT 1000")
    finally:
        db.close()
    assert "CHANGEFEED 3d" in info["user"] and "CHANGEFEED 3d" in info["message"]
    assert "PERMISSIONS" in info["user"]  # the definition as it was, not only its feed
    written = [c for entry in feed for c in entry["changes"] if "update" in c]
    assert written == []  # the table definitions alone
    updates = [c["update"] for entry in after for c in entry["changes"] if "update" in c]
    assert [u["display_name"] for u in updates] == ["After the restore"]


def test_verify_passes_and_the_cli_reports_it(demo_backup, app):
    manifest = verify(demo_backup["path"], demo_backup["config"])
    assert manifest["tables"] == demo_backup["manifest"]["tables"]
    result = app.test_cli_runner().invoke(args=["backup", "--verify", demo_backup["path"]])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output and "restore exactly" in result.output


def test_a_non_empty_target_is_refused_unchanged(demo_backup):
    db = demo_backup["db"]
    before = compare(db, demo_backup["manifest"])
    with pytest.raises(BackupError, match="not empty"):
        restore(db, demo_backup["path"])
    assert compare(db, demo_backup["manifest"]) == before == []


@pytest.mark.parametrize("damage, message", [
    ("truncate", "damaged|incomplete|truncated"),
    ("flip", "does not match its hash"),
    ("newer", "newer iDance"),
    ("unknown_migration", "newer iDance.*0099_future"),
    ("not_a_backup", "not an iDance backup"),
])
def test_damaged_or_newer_backups_are_refused_and_change_nothing(demo_backup, tmp_path,
                                                                  damage, message):
    path, bad = demo_backup["path"], str(tmp_path / "bad.backup")
    if damage == "truncate":
        with open(path, "rb") as src, open(bad, "wb") as out:
            out.write(src.read()[: os.path.getsize(path) // 2])
    elif damage == "not_a_backup":
        with open(bad, "w") as out:
            out.write("SELECT * FROM user;\n")
    elif damage == "flip":
        _rewrite(path, bad, lambda name, data: data.replace(b"Dubois", b"Duboit", 1)
                 if name == "database.surql" else data)
    else:
        def manifest(name, data):
            if name != "manifest.json":
                return data
            m = json.loads(data)
            if damage == "newer":
                m["app_version"] = "99.0.0"
            else:
                m["migrations"].append("0099_future")
            return json.dumps(m).encode()
        _rewrite(path, bad, manifest)
    db = _empty_db()
    try:
        with pytest.raises(BackupError, match=message):
            restore(db, bad)
        assert _info_is_empty(db)
        with pytest.raises(BackupError):
            verify(bad, demo_backup["config"])
    finally:
        db.close()


@pytest.mark.embedded  # on a server other connections write on (not a snapshot)
def test_a_backup_is_one_moment_while_writes_go_on(db, tmp_path):
    """Pairs written in one transaction each, during the backup: each is in it whole or not
    at all (tables added after the app's own are backed up too: the list comes from the
    database)."""
    with db.system() as s:
        s.query("DEFINE TABLE pair_a SCHEMALESS; DEFINE TABLE pair_b SCHEMALESS;"
                "FOR $i IN 0..3000 { CREATE type::thing('pair_a', $i); "
                "CREATE type::thing('pair_b', $i) };")
    stop = threading.Event()

    def writer():
        n = 100_000
        while not stop.is_set():
            with db.system() as s:
                s.query("BEGIN; CREATE type::thing('pair_a', $n); CREATE type::thing('pair_b', $n);"
                        " COMMIT;", {"n": n})
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        manifest = write_backup(db, str(tmp_path / "b.backup"), )
    finally:
        stop.set()
        thread.join()
    with db.system() as s:
        written = s.value("RETURN count(SELECT id FROM pair_a)")
    assert written > manifest["tables"]["pair_a"]["rows"] - 1  # the writer ran meanwhile
    assert manifest["tables"]["pair_a"]["rows"] == manifest["tables"]["pair_b"]["rows"]
    restored = _empty_db()
    try:
        restore(restored, str(tmp_path / "b.backup"))
        with restored.system() as s:
            a = s.value("SELECT VALUE record::id(id) FROM pair_a")
            b = s.value("SELECT VALUE record::id(id) FROM pair_b")
        assert sorted(a) == sorted(b)
    finally:
        restored.close()


def test_restore_into_a_live_data_file_goes_through_the_lock(tmp_path, demo_backup):
    """The embedded file has one owner: with the app holding it, the command says what to do."""
    config = make_config(db_url=f"surrealkv://{tmp_path}/data.db")
    owner = Database(config)
    with owner.system() as s:
        s.value("RETURN 1")
    try:
        app = create_app(config)
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.backup")])
        assert result.exit_code != 0 and "IDANCE_BACKUP_DIR" in result.output
        assert not os.path.exists(tmp_path / "x.backup")
    finally:
        owner.close()


def test_the_serving_app_writes_a_daily_backup_and_keeps_the_newest(tmp_path):
    from idance_web.backup import job
    from idance_web.job_handlers import load_handlers
    from idance_web.jobs import Worker
    from tests.fixtures.template import migrate

    load_handlers()
    config = make_config(backup_dir=str(tmp_path / "backups"), backup_keep=2)
    db = Database(config)
    try:
        migrate(db)
        os.makedirs(tmp_path / "backups")
        for stamp in ("20200101T030000Z", "20200102T030000Z"):
            (tmp_path / "backups" / f"idance-test-{stamp}.backup").write_text("old")
        job.schedule(db, delay=0)
        outcomes = Worker(db).run_due()
        # It queues its next run itself, which takes the job back from its claim ("lost").
        assert [o.error for o in outcomes if o.kind == "backup"] == [None]
        kept = sorted(os.listdir(tmp_path / "backups"))
        assert len(kept) == 2 and kept[0] == "idance-test-20200102T030000Z.backup"
        newest = str(tmp_path / "backups" / kept[1])
        assert stat.S_IMODE(os.stat(newest).st_mode) == 0o600
        assert verify(newest, config)["tables"]["migration"]["rows"] >= 18
        with db.worker() as s:  # the next one waits for the configured hour
            queued = s.one("SELECT state, run_after > time::now() AS later "
                           "FROM ONLY job:['backup', 'daily']")
        assert queued == {"state": "queued", "later": True}
    finally:
        db.close()


def test_the_daily_hour_is_the_next_one():
    import datetime as dt

    from idance_web.backup.job import seconds_until

    now = dt.datetime(2026, 5, 1, 2, 30, tzinfo=dt.UTC)
    assert seconds_until(3, now) == 1800
    assert seconds_until(2, now) == 23.5 * 3600


def test_the_restore_command_restores_once_then_refuses(demo_backup, monkeypatch):
    # The backup holds the lookup rows; the full load would only replace the small test set.
    monkeypatch.setattr("idance_web.services.lookup.load_lookup", lambda s, log: None)
    app = create_app(make_config())  # a fresh, empty database
    try:
        cli = app.test_cli_runner()
        result = cli.invoke(args=["restore", demo_backup["path"]])
        assert result.exit_code == 0, result.output
        assert "every table matches the backup" in result.output
        db = app.extensions["idance.db"]
        with db.visitor() as s:  # the access keys came back from the configuration
            assert s.value("RETURN $access") == "visitor"
        again = cli.invoke(args=["restore", demo_backup["path"]])
        assert again.exit_code == 1 and "not empty" in again.output
    finally:
        app.extensions["idance.db"].close()


def test_a_bucket_is_listed_with_hashes_not_copied(db, tmp_path, monkeypatch):
    import hashlib

    from moto import mock_aws

    from idance_web.storage import storage_from_config

    endpoint = "https://account.r2.cloudflarestorage.example"
    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", endpoint)
    config = db.config.with_overrides(media_backend="s3", s3_bucket="idance-media",
                                      s3_endpoint_url=endpoint, s3_access_key_id="k",
                                      s3_secret_access_key="s", s3_region="us-east-1")
    monkeypatch.setattr(db, "config", config)
    with mock_aws():
        storage = storage_from_config(config)
        storage.client.create_bucket(Bucket="idance-media")
        storage.put("img/ab/cdef.webp", b"webp-bytes", "image/webp")
        manifest = write_backup(db, str(tmp_path / "b.backup"))
    assert manifest["media"] == {"backend": "s3", "bucket": "idance-media", "objects": {
        "img/ab/cdef.webp": {"bytes": 10, "etag": hashlib.md5(b"webp-bytes").hexdigest()}}}
    with tarfile.open(tmp_path / "b.backup") as tar:
        assert tar.getnames() == ["database.surql", "manifest.json"]
    assert verify(str(tmp_path / "b.backup"), config)["media"]["backend"] == "s3"


def test_long_runs_report_their_progress(demo_backup, tmp_path):
    seen = []
    manifest = write_backup(demo_backup["db"], str(tmp_path / "b.backup"),
                            progress=lambda *event: seen.append(event))
    blocks = [(done, total) for what, done, total in seen if what == "content_block"]
    assert blocks == [(1000, manifest["tables"]["content_block"]["rows"]),
                      (manifest["tables"]["content_block"]["rows"],) * 2]
    restored, db = [], _empty_db()
    try:
        restore(db, str(tmp_path / "b.backup"), progress=lambda *event: restored.append(event))
    finally:
        db.close()
    done = [d for _, d, _ in restored]
    assert done == sorted(done) and done[-1] == restored[-1][2] == manifest["sql"]["bytes"]


def test_a_backup_from_an_older_version_is_restored_then_migrated(tmp_path):
    from tests.lookup_fixture import load_small_lookup

    old = _empty_db()
    try:
        Runner(old, lookup=lambda s, log: load_small_lookup(s)).run(target="0016",
                                                                    log=lambda m: None)
        manifest = write_backup(old, str(tmp_path / "old.backup"))
    finally:
        old.close()
    assert manifest["migrations"][-1].startswith("0016")
    db = _empty_db()
    try:
        restore(db, str(tmp_path / "old.backup"))
        applied = Runner(db, lookup=lambda s, log: None).run(log=lambda m: None)
        assert applied == [m.name for m in discover() if m.number > "0016"]
    finally:
        db.close()
