"""The db layer: identities, token refusal, serialization, the file lock, parameters."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from surrealdb import RecordID
from surrealdb.errors import SurrealError

from idance_web.config import ConfigError, from_env
from idance_web.db import Database, DatabaseLocked, key_of, record_id
from idance_web.errors import NotAllowed, NotFound
from tests.fixtures.app import make_config

ROOT = __file__.rsplit("/tests/", 1)[0]

REFUSED = (RuntimeError, SurrealError)  # the embedded SDK's and the WebSocket's


def test_member_reads_her_own_email_and_nobody_elses(db, make_user):
    make_user("alice")
    make_user("bob")
    with db.member("alice") as s:
        rows = s.rows("SELECT username, email FROM user ORDER BY username")
    assert rows == [
        {"username": "alice", "email": "alice@example.com"},
        {"username": "bob"},
    ]


def test_connection_is_root_again_only_inside_system(db, make_user):
    make_user("alice")
    with db.member("alice") as s:
        assert s.value("RETURN $access") == "member"
    with db.visitor() as s:
        assert s.value("RETURN $access") == "visitor"
        assert s.value("RETURN $auth") == RecordID("identity", "visitor")
    with db.worker() as s:
        assert s.value("RETURN $access") == "worker"


def test_a_session_cannot_be_used_after_its_block(db, make_user):
    make_user("alice")
    with db.member("alice") as s:
        pass
    with pytest.raises(RuntimeError, match="outside its block"):
        s.query("SELECT * FROM user")


def test_nesting_another_identity_is_refused(db, make_user):
    make_user("alice")
    with db.member("alice"):
        with pytest.raises(RuntimeError, match="nested"):
            with db.visitor():
                pass
        with db.member("alice") as inner:  # the same identity nests harmlessly
            assert inner.value("RETURN $auth.id") == RecordID("user", "alice")


@pytest.mark.parametrize(
    "access, record, key, refusal",
    [
        # forged signature
        ("member", "user:alice", "wrong-key-" + "z" * 40, "problem with authentication"),
        ("member", "identity:worker", None, "no such member"),  # worker record as a member
        ("member", "identity:visitor", None, "no such member"),
        ("visitor", "identity:worker", None, "not the visitor"),  # wrong record for the access
        ("worker", "identity:visitor", None, "not the worker"),
        ("worker", "user:alice", None, "not the worker"),
        ("member", "user:ghost", None, "problem with authentication"),  # missing record
        ("admin", "user:alice", None, "access method 'admin' does not exist"),  # no such access
    ],
)
def test_forged_and_wrong_tokens_are_refused(db, make_user, access, record, key, refusal):
    make_user("alice")
    if key:
        token = Database(make_config(db_jwt_key=key)).mint_token(access, record)
    else:
        token = db.mint_token(access, record)
    with db._pool.hold():
        conn = db._connection()
        # The embedded SDK raises a RuntimeError carrying the engine's reason, the WebSocket
        # client (IDANCE_TEST_DB=server) its own error with the server's.
        with pytest.raises(REFUSED, match=refusal):
            conn.authenticate(token)
        db._reset(conn)  # nothing runs as the forged identity


def test_an_expired_token_is_refused(db, make_user):
    make_user("alice")
    token = db.mint_token("member", "user:alice", seconds=-30)
    with db._pool.hold():
        conn = db._connection()
        with pytest.raises(REFUSED, match="The token has expired"):
            conn.authenticate(token)
        db._reset(conn)


def test_a_soft_deleted_member_is_refused(db, make_user):
    make_user("alice")
    with db.member("alice") as s:
        s.query("UPDATE $me SET deleted_at = time::now()", {"me": RecordID("user", "alice")})
    with pytest.raises(NotAllowed):
        with db.member("alice"):
            pass


def test_interleaved_threads_never_see_each_other(db, make_user):
    """Two members × many interleaved requests on the shared connection: zero cross rows."""
    make_user("alice")
    make_user("bob")
    leaks, errors = [], []

    def work(username: str) -> None:
        try:
            for _ in range(400):
                with db.member(username) as s:
                    emails = s.value("SELECT VALUE email FROM user WHERE email != NONE")
                if emails != [f"{username}@example.com"]:
                    leaks.append((username, emails))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in ("alice", "bob") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert leaks == []
    assert db.current_identity() is None


def test_hostile_text_is_stored_literally(db, make_user):
    make_user("alice")
    payloads = ["'; REMOVE TABLE user; --", "user:admin", "⟨x⟩", "\" OR true --",
                "message:1;DELETE message"]
    with db.member("alice") as s:
        for text in payloads:
            s.query("UPDATE profile SET bio = $bio WHERE owner = $me",
                    {"bio": text, "me": RecordID("user", "alice")})
            assert s.value("SELECT VALUE bio FROM profile WHERE owner = $me",
                           {"me": RecordID("user", "alice")}) == [text]
    with db.system() as s:
        assert "user" in s.value("INFO FOR DB")["tables"]
        assert s.value("RETURN count(SELECT id FROM user)") == 1


@pytest.mark.parametrize("bad", ["user:admin;", "a b", "x⟩", "", "1;DELETE message", "../etc"])
def test_record_ids_from_request_text_are_checked(bad):
    with pytest.raises(NotFound):
        record_id("message", bad)


def test_record_ids_only_from_known_tables():
    assert record_id("user", "alice") == RecordID("user", "alice")
    assert record_id("user", "user:alice") == RecordID("user", "alice")
    assert key_of(RecordID("user", "alice")) == "alice"
    with pytest.raises(NotFound):
        record_id("user; REMOVE TABLE user", "x")
    with pytest.raises(NotFound):
        record_id("user", RecordID("profile", "alice"))


def test_a_second_process_on_the_same_file_fails_at_once(tmp_path):
    url = f"surrealkv://{tmp_path}/data.db"
    owner = Database(make_config(db_url=url))
    with owner.system() as s:
        assert s.value("RETURN 1") == 1
    script = textwrap.dedent(
        f"""
        from idance_web.db import Database, DatabaseLocked
        from tests.fixtures.app import make_config
        try:
            Database(make_config(db_url={url!r}))._connection()
        except DatabaseLocked as exc:
            print("LOCKED:", exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert "LOCKED:" in result.stdout, result.stderr
    assert "in use by process" in result.stdout
    owner.close()
    # Released: another opener succeeds now.
    again = Database(make_config(db_url=url))
    with again.system() as s:
        assert s.value("RETURN 2") == 2
    again.close()


def test_a_command_on_a_held_file_prints_one_line_naming_the_holder(tmp_path):
    url = f"surrealkv://{tmp_path}/data.db"
    owner = Database(make_config(db_url=url))
    owner._connection()
    env = {**os.environ, "IDANCE_ENV": "development", "IDANCE_DB_URL": url}
    result = subprocess.run([sys.executable, "-c", "from idance_web.cli import main; main()",
                             "migrate"], capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=60)
    owner.close()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"in use by process {os.getpid()}" in lines[0] and "stop that process" in lines[0]


def test_the_database_opens_lazily(tmp_path):
    db = Database(make_config(db_url=f"surrealkv://{tmp_path}/lazy.db"))
    assert not (tmp_path / "lazy.db.lock").exists()
    with db.system() as s:
        s.value("RETURN 1")
    assert (tmp_path / "lazy.db.lock").exists()
    db.close()


def test_opening_a_data_file_bounds_the_engines_value_cache(tmp_path, monkeypatch):
    # The engine reads the bound once, when a process first opens a file: set before opening.
    monkeypatch.setenv("SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE", "unset")
    db = Database(make_config(db_url=f"surrealkv://{tmp_path}/cache.db", db_value_cache=1234))
    assert os.environ["SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE"] == "unset"  # opens lazily
    with db.system() as s:
        assert os.environ["SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE"] == "1234"
        s.value("RETURN 1")
    db.close()
    assert from_env({"IDANCE_DB_VALUE_CACHE": "5000"}).db_value_cache == 5000
    with pytest.raises(ConfigError, match="IDANCE_DB_VALUE_CACHE"):
        make_config(db_value_cache=0).validate()


def test_same_process_second_opener_is_refused_too(tmp_path):
    url = f"surrealkv://{tmp_path}/data.db"
    first = Database(make_config(db_url=url))
    first._connection()
    with pytest.raises(DatabaseLocked):
        Database(make_config(db_url=url))._connection()
    first.close()


@pytest.mark.parametrize("address", [
    "a@b.co", "a..b@x.com", ".a@x.com", "a.@x.com", "a+b@x.io", "o'neil@x.ie", "a@x-.com",
    "üser@x.com", "a b@x.com", "a@x.com.", "a%b@x.com", "x@y.z1", "very.common@example.org",
])
def test_the_forms_email_check_never_passes_what_the_database_refuses(db, address):
    from idance_web.services.accounts import EMAIL_RE

    with db.visitor() as s:
        database_ok = s.value("RETURN string::is::email($e)", {"e": address})
    assert not EMAIL_RE.match(address) or database_ok


def test_password_sign_in_never_opens_an_account_without_a_password(db, make_user):
    """The SIGNIN compares against a fixed hash when there is no usable one; even a person who
    knew that hash's password gets into nothing (simulated with a hash of a known one)."""
    from idance_web.migrate import _ALWAYS, discover, render

    make_user("withpw")
    with db.system() as s:
        s.query("CREATE user:oauthonly SET email = 'only@example.com', username = 'only',"
                " display_name = 'Only'")
        known = s.value("RETURN crypto::argon2::generate('the-dummy-secret')")
    access = next(m for m in discover() if m.name == "0001_authentication")
    section = render(_ALWAYS.findall(access.text)[0], db.config)
    fixed = section.split("$found.password ?? '")[1].split("'")[0]
    with db.system() as s:
        s.query(section.replace(fixed, known))
    for email in ("only@example.com", "nobody@example.com"):
        with pytest.raises(NotAllowed, match="wrong email or password"):
            db.record_signin("member", {"email": email, "password": "the-dummy-secret"})
    assert db.record_signin("member", {"email": "withpw@example.com",
                                       "password": "correct horse battery"}) == "user:withpw"


# -- the connection remembers who it is signed in as -------------------------------------------

def test_the_same_member_twice_authenticates_once(db, make_user):
    make_user("alice")
    before = db.authentications
    for _ in range(3):
        with db.member("alice") as s:
            assert s.value("RETURN $auth.id") == RecordID("user", "alice")
    assert db.authentications - before == 1


def test_another_member_authenticates_and_reads_as_herself(db, make_user):
    make_user("alice")
    make_user("bob")
    with db.member("alice") as s:
        assert s.value("SELECT VALUE email FROM user WHERE email != NONE") == ["alice@example.com"]
    before = db.authentications
    with db.member("bob") as s:
        assert s.value("RETURN $auth.id") == RecordID("user", "bob")
        assert s.value("SELECT VALUE email FROM user WHERE email != NONE") == ["bob@example.com"]
    assert db.authentications - before == 1


def test_system_after_a_member_is_root_and_a_member_after_system_authenticates(db, make_user):
    make_user("alice")
    make_user("bob")
    with db.member("alice"):
        pass
    with db.system() as s:
        assert s.value("RETURN $access") is None and s.value("RETURN $auth") is None
        assert len(s.value("SELECT VALUE email FROM user")) == 2
    before = db.authentications
    with db.member("alice") as s:
        assert s.value("RETURN $access") == "member"
    assert db.authentications - before == 1


def test_a_block_that_wrote_or_failed_authenticates_the_next_one_again(db, make_user):
    make_user("alice")
    with db.member("alice") as s:
        s.query("UPDATE profile SET bio = 'hi' WHERE owner = $me",
                {"me": RecordID("user", "alice")})
    before = db.authentications
    with db.member("alice"):
        pass
    with pytest.raises(ZeroDivisionError):
        with db.member("alice"):
            1 / 0
    with db.member("alice"):
        pass
    assert db.authentications - before == 2


def test_a_token_near_its_expiry_is_minted_again():
    from tests.fixtures.template import migrate

    short = Database(make_config(db_token_seconds=2))
    migrate(short, lookup=False)
    with short.system() as s:
        s.query("CREATE user:alice SET email = 'alice@example.com', username = 'alice',"
                " display_name = 'Alice'")
    try:
        with short.member("alice"):
            pass
        with short.member("alice"):  # within the token's life: reused
            pass
        assert short.authentications == 1
        time.sleep(1.2)  # a 2-second token is reused for 1 second at most
        with short.member("alice") as s:
            assert s.value("RETURN $auth.id") == RecordID("user", "alice")
        assert short.authentications == 2
    finally:
        short.close()
