"""The one way to talk to SurrealDB: the connection, the identities work runs under, and errors.

Every user-facing query runs inside ``db.member(user_id)``, ``db.visitor()`` or ``db.worker()``;
each switches the connection to a record-access identity whose table and field permissions the
database enforces. ``db.system()`` (root on the embedded engine, the configured user on a
server) is for migrations, the CLI and sign-in/sign-up only, and always switches to root first.

The embedded connection is one object shared by all threads: a lock serializes it, and the
identity is part of what the lock protects, so no request can run on a connection another
request switched. The connection remembers who it is signed in as: the next block of the same
identity skips re-authentication while its token is valid and no block since has written.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from joserfc import jwt
from joserfc.jwk import OctKey
from surrealdb import RecordID, Surreal

from .config import Config
from .db_errors import (  # noqa: F401 - the database's own failures are imported from here
    _NOT_EXECUTED, DatabaseError, DatabaseLocked, DatabaseUnavailable, map_error,
)
from .errors import NotAllowed
from .record_ids import (  # noqa: F401 - services import record ids from here
    TABLES, key_of, record_id, record_text,
)

VISITOR_ID = "identity:visitor"
WORKER_ID = "identity:worker"

# A block that ran one of these forgets its identity: a write can change what the access's
# AUTHENTICATE clause decides (she soft-deleted herself), so the next block authenticates again.
_WRITES = re.compile(r"\b(?:CREATE|UPDATE|UPSERT|DELETE|RELATE|INSERT)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Identity:
    access: str  # member | visitor | worker | system
    record: str | None = None


SYSTEM = Identity("system")
HUB = Identity("hub")


def _token_expiry(token: str) -> float:
    """The ``exp`` claim of a JWT the database issued (read, not verified: it is our own)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims.get("exp", time.time() + 60))


def hub_password(config: Config) -> str:
    """The change-feed reader's database password, derived from the key (rotates with it)."""
    return hmac.new(config.db_jwt_key.encode(), b"idance-hub", hashlib.sha256).hexdigest()


class Session:
    """Queries under one identity; valid only inside the ``with`` block that made it."""

    def __init__(self, database: "Database", identity: Identity):
        self._database = database
        self.identity = identity
        self.open = True

    def query(self, sql: str, vars: dict | None = None) -> list[Any]:
        """Run SurrealQL (parameters only) and return every statement's result.

        Raises the app's exception for the first statement that failed.
        """
        if not self.open:
            raise RuntimeError("database session used outside its block")
        return self._database._run(sql, vars or {})

    def rows(self, sql: str, vars: dict | None = None) -> list[dict]:
        """The last statement's rows."""
        result = self.query(sql, vars)[-1]
        if result is None:
            return []
        return result if isinstance(result, list) else [result]

    def one(self, sql: str, vars: dict | None = None) -> dict | None:
        """The last statement's first row, or None."""
        rows = self.rows(sql, vars)
        return rows[0] if rows else None

    def value(self, sql: str, vars: dict | None = None) -> Any:
        """The last statement's value as it is (for ``RETURN`` and ``count()``)."""
        return self.query(sql, vars)[-1]


class Database:
    """Owns the connection; opens lazily; serializes use and identity switching."""

    def __init__(self, config: Config):
        self.config = config
        self._conn = None
        self._lock = threading.RLock()
        self._local = threading.local()
        self._lock_file = None
        self._jwt_key = OctKey.import_key(config.db_jwt_key)
        self.query_count = 0  # statements batches sent; pages count their queries with it
        self.authentications = 0  # identity switches that authenticated or signed in
        # Who the connection is signed in as (None: at rest, root or the configured user),
        # until when that may be reused, and whether the current block wrote. Under the lock.
        self._signed_in: Identity | None = None
        self._signed_in_until = 0.0
        self._wrote = False
        self._hub_token: str | None = None

    # -- connection -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.config.db_url

    @property
    def embedded(self) -> bool:
        return self.url.startswith(("mem://", "surrealkv://", "file://", "rocksdb://"))

    def _data_path(self) -> str | None:
        for scheme in ("surrealkv://", "file://", "rocksdb://"):
            if self.url.startswith(scheme):
                return self.url[len(scheme) :]
        return None

    def _take_file_lock(self, path: str) -> None:
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        lock_path = os.path.abspath(path) + ".lock"
        handle = open(lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DatabaseLocked(
                f"the database file {path} is in use by {holder}; "
                "stop that process first (one process owns an embedded data file)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        self._lock_file = handle

    def _connection(self):
        if self._conn is None:
            path = self._data_path()
            if path is not None:
                self._take_file_lock(path)
                # Without it a commit is written but not flushed to disk: it survives the
                # process's death, not the machine's. The engine reads this once per process.
                os.environ["SURREAL_SYNC_DATA"] = "true" if self.config.db_sync else "false"
            try:
                conn = Surreal(self.url)
                conn.connect()
                if not self.embedded and self.config.db_user:
                    conn.signin({"username": self.config.db_user, "password": self.config.db_pass})
                conn.use(self.config.db_namespace, self.config.database)
            except DatabaseError:
                raise
            except Exception as exc:  # the SDK raises bare exceptions for transport failures
                self._release_file_lock()
                raise DatabaseUnavailable(f"cannot open {self.url}: {exc}") from exc
            self._conn = conn
            self._signed_in = None
        return self._conn

    def _release_file_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def close(self) -> None:
        """Close the connection and release the data file."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None
                    self._signed_in = None
            self._release_file_lock()

    # -- tokens -----------------------------------------------------------------------------
    def mint_token(self, access: str, record: str, seconds: int | None = None,
                   now: int | None = None) -> str:
        """A record-access JWT for ``record`` under ``access``, signed with the configured key."""
        now = int(time.time()) if now is None else now
        claims = {
            "iss": "SurrealDB",
            "iat": now,
            "nbf": now,
            "exp": now + (seconds if seconds is not None else self.config.db_token_seconds),
            "NS": self.config.db_namespace,
            "DB": self.config.database,
            "AC": access,
            "ID": record,
        }
        return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, self._jwt_key)

    # -- identities -------------------------------------------------------------------------
    @contextmanager
    def session(self, identity: Identity) -> Iterator[Session]:
        """Hold the connection as ``identity`` for the block.

        The connection stays signed in as ``identity`` afterwards, so that the next block of the
        same identity (token still valid, no write since) needs no authentication; any other
        identity switches explicitly, ``system`` included (it returns the connection to root).
        """
        with self._lock:
            current = getattr(self._local, "identity", None)
            if current is not None:
                if current != identity:
                    raise RuntimeError(
                        f"nested database session as {identity.access} inside {current.access}"
                    )
                yield Session(self, identity)
                return
            conn = self._connection()
            session = Session(self, identity)
            self._local.identity = identity
            self._wrote = False
            ok = False
            try:
                self._switch(conn, identity)
                yield session
                ok = True
            finally:
                session.open = False
                self._local.identity = None
                if (self._wrote or not ok) and self._signed_in is not None:
                    self._reset(conn)

    def _switch(self, conn, identity: Identity) -> None:
        if identity == SYSTEM:
            if self._signed_in is not None:
                self._reset(conn)
            return
        if self._signed_in == identity and time.time() < self._signed_in_until:
            return
        if identity == HUB:
            self._signin_hub(conn)
        else:
            self._authenticate(conn, identity)

    def _authenticate(self, conn, identity: Identity) -> None:
        seconds = self.config.db_token_seconds
        now = int(time.time())
        token = self.mint_token(identity.access, identity.record, seconds, now=now)
        self.authentications += 1
        try:
            conn.authenticate(token)
        except Exception as exc:
            self._reset(conn)
            raise NotAllowed(f"{identity.access} token refused: {exc}") from exc
        self._signed_in = identity
        # Reused until shortly before it expires: a block never starts on a token about to end.
        self._signed_in_until = now + seconds - max(1, min(10, seconds // 4))

    def _signin_hub(self, conn) -> None:
        # A database user's sign-in verifies its argon2 password (~100 ms holding the GIL):
        # sign in once and authenticate with the token it returns (well under a millisecond).
        self.authentications += 1
        if self._hub_token is not None:
            try:
                conn.authenticate(self._hub_token)
                self._signed_in, self._signed_in_until = HUB, _token_expiry(self._hub_token) - 60
                return
            except Exception:  # expired, or the user was redefined with a rotated key
                self._hub_token = None
        try:
            tokens = conn.signin({"namespace": self.config.db_namespace,
                                  "database": self.config.database,
                                  "username": "hub", "password": hub_password(self.config)})
        except Exception as exc:
            self._reset(conn)
            raise NotAllowed(f"hub sign-in refused: {exc}") from exc
        self._hub_token = getattr(tokens, "access", None)
        self._signed_in = HUB
        self._signed_in_until = (_token_expiry(self._hub_token) - 60 if self._hub_token
                                 else time.time() + 60)

    def _reset(self, conn) -> None:
        """Return the connection to rest: root embedded, the configured user on a server."""
        self._signed_in = None
        conn.invalidate()
        if not self.embedded and self.config.db_user:
            conn.signin({"username": self.config.db_user, "password": self.config.db_pass})
            conn.use(self.config.db_namespace, self.config.database)

    def member(self, user_id: Any) -> Any:
        """Work as the member ``user:<id>``; table permissions bind every query."""
        rid = record_id("user", user_id)
        return self.session(Identity("member", record_text(rid)))

    def visitor(self) -> Any:
        """Work as the anonymous visitor: only published and public data."""
        return self.session(Identity("visitor", VISITOR_ID))

    def worker(self) -> Any:
        """Work as the background worker: exactly the rights its jobs need."""
        return self.session(Identity("worker", WORKER_ID))

    def hub(self) -> Any:
        """Read change feeds as the ``VIEWER`` database user (record identities may not)."""
        return self.session(HUB)

    def system(self) -> Any:
        """Work with full rights: migrations, the CLI, sign-in and sign-up only."""
        return self.session(SYSTEM)

    def current_identity(self) -> Identity | None:
        return getattr(self._local, "identity", None)

    # -- the raw call -----------------------------------------------------------------------
    def _run(self, sql: str, vars: dict) -> list[Any]:
        conn = self._connection()
        self.query_count += 1
        if _WRITES.search(sql):
            self._wrote = True
        try:
            response = conn.query_raw(sql, vars)
        except Exception as exc:
            raise map_error(str(exc)) from exc
        if "error" in response:
            raise map_error(str(response["error"].get("message", response["error"])))
        statements = response.get("result", [])
        failed = [str(st.get("result")) for st in statements if st.get("status") != "OK"]
        if failed:
            # Inside a transaction every statement after the failing one reports only that it
            # was not executed: raise the one that says why.
            cause = next((f for f in failed if _NOT_EXECUTED not in f), failed[0])
            raise map_error(cause)
        return [st.get("result") for st in statements]

    def raw(self, sql: str, vars: dict | None = None) -> list[dict]:
        """Every statement's status and result, unchecked (the migration runner reports them)."""
        if self.current_identity() != SYSTEM:
            raise RuntimeError("raw queries run only inside db.system()")
        self.query_count += 1
        try:
            return self._connection().query_raw(sql, vars or {}).get("result", [])
        except RuntimeError as exc:  # a parse error is raised, not reported per statement
            return [{"status": "ERR", "result": str(exc)}]

    # -- sign-in through the member access ----------------------------------------------------
    def record_signin(self, access: str, variables: dict, signup: bool = False) -> str:
        """Run the access's SIGNIN (or SIGNUP) clause; return the record id it resolved to.

        The password is checked by the database (argon2); the connection is returned to its
        resting state before the lock is released.
        """
        with self._lock:
            if getattr(self._local, "identity", None) is not None:
                raise RuntimeError("sign-in inside another database session")
            conn = self._connection()
            payload = {
                "namespace": self.config.db_namespace,
                "database": self.config.database,
                "access": access,
                "variables": variables,
            }
            self._local.identity = Identity(access)
            try:
                (conn.signup if signup else conn.signin)(payload)
                auth = conn.query_raw("RETURN $auth.id")["result"][0]["result"]
            except Exception as exc:
                raise map_error(str(exc)) from exc
            finally:
                self._local.identity = None
                self._reset(conn)
            if auth is None:
                raise NotAllowed("sign-in refused")
            return f"{auth.table_name}:{auth.id}"

    def ping(self) -> float:
        """Round trip of a trivial query, in milliseconds."""
        start = time.perf_counter()
        with self.visitor() as s:
            s.value("RETURN 1")
        return (time.perf_counter() - start) * 1000
