"""The database layer's server path, without a server.

With a SurrealDB server the app signs in as ``IDANCE_DB_USER`` at the root level and returns
the connection to that user after each identity's block, with the token of its one password
sign-in (again only when the token nears its end or is refused). No server binary can be installed
here, so these tests take the same code path on an embedded file whose root users are defined
first: the engine checks a signed-in user's roles as a server does (its IAM is the same code).
"""

from __future__ import annotations

import time

import pytest
from surrealdb import Surreal

from idance_web.backup import write_backup
from idance_web.db import Database, DatabaseUnavailable
from idance_web.errors import NotAllowed
from idance_web.migrate import MigrationError
from idance_web.serve import SERVER_SCHEMES
from tests.fixtures.app import make_config
from tests.fixtures.template import migrate

OWNER_PASS = "owner-pass-0123456789"
EDITOR_PASS = "editor-pass-0123456789"


class ServerPathDatabase(Database):
    """A Database that takes the server branch (sign-in as the configured user) on a file."""

    @property
    def embedded(self) -> bool:
        return False


@pytest.fixture
def data_url(tmp_path):
    url = f"surrealkv://{tmp_path / 'idance.db'}"
    conn = Surreal(url)
    conn.connect()
    conn.query_raw(f"DEFINE USER idance ON ROOT PASSWORD '{OWNER_PASS}' ROLES OWNER; "
                   f"DEFINE USER editor ON ROOT PASSWORD '{EDITOR_PASS}' ROLES EDITOR;")
    conn.close()
    return url


def server_db(url: str, user: str, password: str) -> Database:
    return ServerPathDatabase(make_config(db_url=url, db_user=user, db_pass=password))


@pytest.mark.embedded  # make_config's mem:// is a stand-in server there
@pytest.mark.parametrize("url, embedded", [
    ("mem://", True), ("surrealkv://instance/idance.db", True), ("rocksdb://data", True),
    ("ws://db:8000", False), ("wss://db.example", False), ("http://db:8000", False),
    ("https://db.example", False)])
def test_the_url_decides_embedded_or_server_as_idance_serve_does(url, embedded):
    db = Database(make_config(db_url=url))
    assert db.embedded is embedded
    assert url.startswith(SERVER_SCHEMES) is (not embedded)  # serve.plan's choice agrees


def _serves(db: Database, user: str) -> None:
    """A system write, a member's block, the hub's read, and the connection back at rest."""
    with db.system() as s:
        s.query("CREATE user:ann SET email = 'ann@example.com', username = 'ann', "
                "display_name = 'Ann', password = 'x', has_password = true; "
                "CREATE profile SET owner = user:ann, birth_date = d'1990-01-01'")
    with db.member("ann") as s:
        assert s.value("RETURN $auth.id").id == "ann"
    with db.hub() as s:  # the change-feed reader's sign-in (VIEWER)
        assert s.query("SHOW CHANGES FOR DATABASE SINCE 0 LIMIT 1")[0] is not None
    with db.system() as s:
        # Back at rest: the configured root user on the app's namespace and database.
        session = s.one("SELECT * FROM $session")
        assert (session["tk"]["ID"], session["ns"], session["db"]) == (
            user, "idance", "test")
        assert s.value("RETURN $auth") is None  # no record identity left over


def test_the_configured_user_migrates_and_every_identity_works_after_it(data_url):
    db = server_db(data_url, "idance", OWNER_PASS)
    try:
        migrate(db, lookup=False)  # defines the access methods and the hub user: OWNER rights
        _serves(db, "idance")
    finally:
        db.close()


def test_an_editor_cannot_migrate_but_can_serve_what_an_owner_migrated(data_url, tmp_path):
    editor = server_db(data_url, "editor", EDITOR_PASS)
    try:
        with pytest.raises(MigrationError, match="0001_authentication.surql: IAM error: Not "
                                                 "enough permissions"):
            migrate(editor, lookup=False)
    finally:
        editor.close()
    owner = server_db(data_url, "idance", OWNER_PASS)
    migrate(owner, lookup=False)
    owner.close()
    editor = server_db(data_url, "editor", EDITOR_PASS)
    try:
        _serves(editor, "editor")
        manifest = write_backup(editor, str(tmp_path / "daily.backup"))  # the worker's job
        assert manifest["tables"]["user"]["rows"] == 1
        # The engine's refusal of the user's role is the app's NotAllowed, not a 500.
        with pytest.raises(NotAllowed, match="IAM error"):
            with editor.system() as s:
                s.query("DEFINE USER other ON DATABASE PASSWORD 'other-pass' ROLES VIEWER")
    finally:
        editor.close()


def test_a_wrong_password_fails_at_connect_naming_the_database(data_url):
    db = server_db(data_url, "idance", "not-the-password")
    with pytest.raises(DatabaseUnavailable, match="cannot open surrealkv://"):
        with db.system() as s:
            s.value("RETURN 1")
    db.close()


def _write_as_member(db: Database, text: str) -> None:
    """A member's block that writes: the connection goes back to the configured user after it."""
    with db.member("ann") as s:
        s.query("UPDATE profile SET bio = $text WHERE owner = $auth.id", {"text": text})


def _signed_in_as(db: Database) -> str:
    with db.system() as s:
        return s.value("RETURN $session.tk.ID")


def test_the_configured_user_signs_in_once_and_reuses_its_token(data_url):
    db = server_db(data_url, "idance", OWNER_PASS)
    try:
        migrate(db, lookup=False)
        _serves(db, "idance")
        for n in range(3):
            _write_as_member(db, f"bio {n}")
            with db.hub() as s:
                s.query("SHOW CHANGES FOR DATABASE SINCE 0 LIMIT 1")
            assert _signed_in_as(db) == "idance"
        with pytest.raises(NotAllowed):  # a member's sign-in returns the connection to rest too
            db.record_signin("member", {"email": "ann@example.com", "password": "wrong"})
        assert _signed_in_as(db) == "idance"
        # Every block above returned the connection to the configured user (writes, the
        # hub, the member's sign-in): one password sign-in, at connect; the hub's likewise.
        assert db.user_signins == 1
        assert db._hub_signin.signins == 1
    finally:
        db.close()


def test_a_refused_token_signs_in_with_the_password_again(data_url):
    db = server_db(data_url, "idance", OWNER_PASS)
    try:
        migrate(db, lookup=False)
        _serves(db, "idance")
        assert db.user_signins == 1
        with db.system() as s:  # a redefined user gets a new token key: old tokens are refused
            s.query(f"DEFINE USER OVERWRITE idance ON ROOT PASSWORD '{OWNER_PASS}' ROLES OWNER")
        _write_as_member(db, "after the change")
        assert db.user_signins == 2
        assert _signed_in_as(db) == "idance"
        _write_as_member(db, "once more")
        assert db.user_signins == 2  # the new token is reused
    finally:
        db.close()


def test_a_token_near_its_end_is_not_reused(data_url):
    db = server_db(data_url, "idance", OWNER_PASS)
    migrate(db, lookup=False)
    _serves(db, "idance")
    db.close()
    conn = Surreal(data_url)
    conn.connect()
    # Reused for 4 s: a token is given up 60 s before its end.
    conn.query_raw(f"DEFINE USER OVERWRITE idance ON ROOT PASSWORD '{OWNER_PASS}' ROLES OWNER "
                   "DURATION FOR TOKEN 64s")
    conn.close()
    db = server_db(data_url, "idance", OWNER_PASS)
    try:
        _write_as_member(db, "within its life")
        _write_as_member(db, "still within it")
        assert db.user_signins == 1
        time.sleep(max(0.0, db._user_signin.until - time.time()) + 0.1)
        _write_as_member(db, "past it")
        assert db.user_signins == 2
        assert _signed_in_as(db) == "idance"
    finally:
        db.close()
