"""``idance compact``: an embedded data file written anew, its history dropped, its rows kept."""

from __future__ import annotations

import os

import pytest

from idance_web import create_app
from idance_web.backup import BackupError
from idance_web.backup.compact import compact, folder_size
from idance_web.backup.restore import compare
from idance_web.db import Database, DatabaseLocked
from tests.fixtures.app import make_config
from tests.fixtures.template import run_migrations


@pytest.fixture
def data_file(tmp_path):
    """A migrated data file with a member whose profile was saved many times (its history)."""
    config = make_config(db_url=f"surrealkv://{tmp_path / 'idance.db'}")
    db = Database(config)
    run_migrations(db)
    with db.system() as s:
        s.query("CREATE user:ana SET email = 'ana@example.com', username = 'ana', "
                "display_name = 'Ana'; CREATE profile:ana SET owner = user:ana")
        for n in range(150):  # each save appends the whole row again, and a feed entry
            s.query("UPDATE profile:ana SET bio = $bio", {"bio": f"Version {n}. " * 40})
        counts = s.value("RETURN { users: count(SELECT id FROM user), "
                         "cities: count(SELECT id FROM city) }")
    db.close()
    return config, str(tmp_path / "idance.db"), counts


def test_compaction_keeps_every_row_and_drops_the_history(data_file):
    config, path, counts = data_file
    before = folder_size(path)
    said = []
    assert compact(config, log=said.append) == (before, folder_size(path))
    # Freed: more than the 150 superseded versions' text alone (their feed entries too).
    assert before - folder_size(path) > 1.2 * 150 * len("Version 0. " * 40)
    assert os.path.isdir(path + ".before-compact") and not os.path.exists(path + ".compacting")
    assert any("before-compact" in line for line in said)
    db = Database(config)
    try:
        with db.system() as s:
            assert s.value("SELECT VALUE bio FROM ONLY profile:ana").startswith("Version 149.")
            assert s.value("RETURN { users: count(SELECT id FROM user), "
                           "cities: count(SELECT id FROM city) }") == counts
            feed = s.value("SHOW CHANGES FOR TABLE profile SINCE 0 LIMIT 1000")
        assert [c for entry in feed for c in entry["changes"] if "update" in c] == []
        with db.member("ana") as s:  # the access keys are back: her token is accepted
            assert s.value("SELECT VALUE username FROM ONLY user:ana") == "ana"
    finally:
        db.close()
    # The old file is kept until the operator removes it: a second compaction waits for that.
    with pytest.raises(BackupError, match="remove it first"):
        compact(config)


def test_compaction_refuses_while_the_app_owns_the_file_and_changes_nothing(data_file):
    config, path, _ = data_file
    serving = Database(config)
    with serving.system() as s:
        s.value("RETURN 1")  # opened: the lock is held
    try:
        before = folder_size(path)
        with pytest.raises(DatabaseLocked):
            compact(config)
        assert folder_size(path) == before and not os.path.exists(path + ".before-compact")
    finally:
        serving.close()


def test_the_command_says_what_it_did_and_what_it_cannot(data_file):
    config, path, _ = data_file
    result = create_app(config).test_cli_runner().invoke(args=["compact"])
    assert result.exit_code == 0 and "Compacted the data file:" in result.output, result.output
    assert os.path.isdir(path + ".before-compact")
    result = create_app(make_config()).test_cli_runner().invoke(args=["compact"])
    assert result.exit_code == 1 and "embedded data file" in result.output


def test_a_compacted_file_is_the_same_database(data_file, tmp_path):
    """What compare (the restore's own check) reads is equal before and after."""
    from idance_web.backup import write_backup

    config, path, _ = data_file
    db = Database(config)
    manifest = write_backup(db, str(tmp_path / "before.backup"), media=False)
    db.close()
    compact(config)
    db = Database(config)
    try:
        assert compare(db, manifest) == []
    finally:
        db.close()
