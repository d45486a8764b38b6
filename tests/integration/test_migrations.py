"""The migration runner against the real embedded engine."""

from __future__ import annotations

import shutil

import pytest

from idance_web.db import Database
from idance_web.errors import NotAllowed
from idance_web.migrate import MIGRATIONS_DIR, MigrationError, Runner, discover
from tests.fixtures.app import make_config
from tests.fixtures.template import CopyError, Template, snapshot

SEED_TABLES = """user profile device country state county city follow swipe match user_dance_style
    user_interest chat message comments notification vlog vlog_like group group_member site
    content_block dance_style interest social_platform oauth_identity audit_log block
    migration identity user_session upload""".split()


@pytest.fixture
def fresh_db():
    db = Database(make_config())
    yield db
    db.close()


@pytest.fixture
def migrations_copy(tmp_path):
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


def tables(db: Database) -> set[str]:
    with db.system() as s:
        return set(s.value("INFO FOR DB")["tables"])


def applied(db: Database) -> list[str]:
    with db.system() as s:
        return [r["name"] for r in s.rows("SELECT name FROM migration ORDER BY name")]


def test_all_migrations_apply_on_an_empty_database(fresh_db):
    done = Runner(fresh_db).run(log=lambda m: None)
    assert done == [m.name for m in discover()]
    assert set(SEED_TABLES) <= tables(fresh_db)


def test_second_run_is_a_no_op(fresh_db):
    runner = Runner(fresh_db)
    runner.run(log=lambda m: None)
    before = applied(fresh_db)
    assert runner.run(log=lambda m: None) == []
    assert applied(fresh_db) == before
    assert {s.state for s in runner.status()} == {"applied"}


def test_target_applies_up_to_and_including_it(fresh_db):
    runner = Runner(fresh_db)
    runner.run(target="0002", log=lambda m: None)
    assert applied(fresh_db) == ["0000_namespace_database", "0001_authentication", "0002_core_users"]
    states = {s.name: s.state for s in runner.status()}
    assert states["0003_lookup_tables"] == "pending"
    assert "city" not in tables(fresh_db)
    with pytest.raises(MigrationError, match="no migration"):
        runner.run(target="9999")


def test_an_edited_applied_file_is_refused_by_name(fresh_db, migrations_copy):
    runner = Runner(fresh_db, directory=migrations_copy)
    runner.run(log=lambda m: None)
    path = migrations_copy / "0004_social_interactions.surql"
    path.write_text(path.read_text() + "\n-- an edit\n")
    assert {s.name: s.state for s in runner.status()}["0004_social_interactions"] == "changed"
    with pytest.raises(MigrationError, match="0004_social_interactions.surql changed"):
        runner.run(log=lambda m: None)


def test_a_failing_file_leaves_nothing_and_is_retried(fresh_db, migrations_copy):
    broken = migrations_copy / "9990_broken.surql"
    broken.write_text(
        "DEFINE TABLE half SCHEMAFULL PERMISSIONS NONE;\n"
        "DEFINE FIELD n ON half TYPE int;\n"
        "CREATE half SET n = 'not a number';\n"
    )
    runner = Runner(fresh_db, directory=migrations_copy)
    with pytest.raises(MigrationError, match="9990_broken.surql: .*expected a int"):
        runner.run(log=lambda m: None)
    assert "half" not in tables(fresh_db)
    assert "9990_broken" not in applied(fresh_db)
    assert discover()[-1].name in applied(fresh_db)

    broken.write_text(broken.read_text().replace("'not a number'", "1"))
    assert runner.run(log=lambda m: None) == ["9990_broken"]
    assert "half" in tables(fresh_db)


def test_a_parse_error_names_the_file(fresh_db, migrations_copy):
    (migrations_copy / "9991_typo.surql").write_text("DEFINE TABLE oops SCHEMAFULL PERMISSIONS NONE;\nSELEC * FROM oops;")
    with pytest.raises(MigrationError, match="9991_typo.surql"):
        Runner(fresh_db, directory=migrations_copy).run(log=lambda m: None)
    assert "oops" not in tables(fresh_db)


def test_access_definitions_follow_a_rotated_key(tmp_path):
    """Re-applied with OVERWRITE on every run: a rotated key takes effect, the old one stops."""
    url = f"surrealkv://{tmp_path}/data.db"
    old = Database(make_config(db_url=url))
    Runner(old).run(log=lambda m: None)
    with old.visitor() as s:
        assert s.value("RETURN $access") == "visitor"
    old.close()

    rotated = Database(make_config(db_url=url, db_jwt_key="rotated-key-" + "x" * 32))
    Runner(rotated).run(log=lambda m: None)
    with rotated.visitor() as s:
        assert s.value("RETURN $access") == "visitor"
    # A token signed with the old key is refused by the database.
    stale = old.mint_token("visitor", "identity:visitor")
    conn = rotated._connection()
    with pytest.raises(RuntimeError, match="problem with authentication"):
        conn.authenticate(stale)
    conn.invalidate()
    rotated.close()


def test_the_key_never_lives_in_a_migration_file():
    for m in discover():
        assert "KEY '{{jwt_key}}'" in m.text or "KEY '" not in m.text, m.name


def test_every_table_and_sensitive_field_declares_permissions(fresh_db):
    """A table without explicit PERMISSIONS fails the suite (SECURITY.md 20)."""
    import re

    for m in discover():
        for statement in re.findall(r"DEFINE TABLE [^;]*;", m.text):
            assert "PERMISSIONS" in statement, f"{m.name}: {statement[:60]}"
    Runner(fresh_db).run(log=lambda m: None)
    sensitive = {
        "user": ["email", "password", "tier"],
        "profile": ["birth_date", "measurements", "exact_point"],
        "site": ["draft"],
        "device": ["keys"],
    }
    with fresh_db.system() as s:
        for table, names in sensitive.items():
            info = s.value(f"INFO FOR TABLE {table}")["fields"]
            for name in names:
                assert "PERMISSIONS FOR select" in info[name] or "PERMISSIONS NONE" in info[name], (
                    f"{table}.{name}: {info[name]}"
                )
                assert "FOR select FULL" not in info[name]


def test_member_token_for_a_missing_record_is_refused(fresh_db):
    Runner(fresh_db).run(log=lambda m: None)
    with pytest.raises(NotAllowed):
        with fresh_db.member("ghost"):
            pass


# -- the suite's databases are copies of a migrated one (tests/fixtures/template.py) -----------


@pytest.mark.embedded
def test_a_copy_holds_what_the_migrations_made(fresh_db):
    """Definitions (accesses and the hub user of the @always section included), rows, and
    identities signing in: the first copy is compared with its migrated source."""
    template = Template(make_config())
    template.copy_into(fresh_db)
    assert template.checked
    copied = snapshot(fresh_db)
    assert set(copied["db"]["accesses"]) == {"member", "visitor", "worker"}
    assert set(copied["db"]["users"]) == {"hub"}
    assert copied == template.state
    # The runner finds nothing to apply and re-applies the @always section as on any database.
    assert Runner(fresh_db).run(log=lambda m: None) == []
    assert {s.state for s in Runner(fresh_db).status()} == {"applied"}
    with fresh_db.visitor() as s:
        assert s.value("RETURN $access") == "visitor"


@pytest.mark.embedded
def test_a_copy_that_differs_is_refused(fresh_db):
    template = Template(make_config())
    schemafull = "DEFINE TABLE OVERWRITE identity TYPE NORMAL SCHEMAFULL"
    assert schemafull in template.script
    template.script = template.script.replace(schemafull, schemafull[:-4] + "LESS")
    with pytest.raises(CopyError, match=r"differs from the migrated database in db: \['tables'\]"):
        template.copy_into(fresh_db)
