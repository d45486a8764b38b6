"""The one way to talk to SurrealDB: the connection, the identities work runs under, and errors.

Every user-facing query runs inside ``db.member(user_id)``, ``db.visitor()`` or ``db.worker()``;
each switches the connection to a record-access identity whose table and field permissions the
database enforces. ``db.system()`` (root on the embedded engine, the configured user on a
server) is for migrations, the CLI and sign-in/sign-up only, and always switches to root first.

A block holds a connection, and its identity with it, so no request runs on a connection another
request switched: the embedded engine's one, or one of a server's pool (``db_pool.py``). A
connection remembers who it is signed in as: the next block of the same identity on it skips
re-authentication while its token is valid and no block since has written. Database users sign
in once and reuse their token (``db_auth.py``); a server connection whose transport failed is
opened again by a later block, with back-off (``db_reconnect.py``).
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from contextlib import contextmanager, nullcontext
from typing import Any, Iterator

from joserfc.jwk import OctKey
from surrealdb import RecordID, Surreal

from .config import Config
from .data_lock import DataFileLock
from .db_auth import UserSignIn, hub_password, mint_record_token
from .db_pool import HeldLink, Link, Pool
from .db_errors import (  # noqa: F401 - the database's own failures are imported from here
    _NOT_EXECUTED, DatabaseError, DatabaseLocked, DatabaseUnavailable, DataUnwritable, map_error,
)
from .db_reconnect import TRANSPORT_ERRORS, Backoff
from .db_session import HUB, SYSTEM, Identity, Session
from .errors import NotAllowed
from .record_ids import (  # noqa: F401 - services import record ids from here
    TABLES, key_of, record_id, record_text,
)

log = logging.getLogger("idance.db")

VISITOR_ID = "identity:visitor"
WORKER_ID = "identity:worker"

# A block that ran one of these forgets its identity: a write can change what the access's
# AUTHENTICATE clause decides (she soft-deleted herself), so the next block authenticates again.
_WRITES = re.compile(r"\b(?:CREATE|UPDATE|UPSERT|DELETE|RELATE|INSERT)\b", re.IGNORECASE)


class Database(HeldLink):
    """Owns the connections; opens them lazily; one block per connection at a time."""

    def __init__(self, config: Config):
        self.config = config
        self._pool = Pool(1 if self.embedded else config.db_pool)
        self._open_lock = threading.Lock()  # one connection opened at a time (the back-off)
        self._local = threading.local()
        self._data_lock = DataFileLock()  # kept across a reopen (_discard)
        self._jwt_key = OctKey.import_key(config.db_jwt_key)
        self.query_count = 0  # statements batches sent; pages count their queries with it
        self.query_seconds = 0.0  # time spent in those round trips (/metrics reports both)
        self.authentications = 0  # identity switches that authenticated or signed in
        # Database users' sign-ins, kept as their tokens (an argon2 check each time otherwise).
        self._hub_signin = UserSignIn({"namespace": config.db_namespace,
                                       "database": config.database,
                                       "username": "hub", "password": hub_password(config)})
        self._user_signin = UserSignIn({"username": config.db_user, "password": config.db_pass})
        self._backoff = Backoff()  # a server's failed connection attempts (db_reconnect.py)
        self.reconnects = 0  # server connections opened again after one was lost
        self._losses = 0  # server connections lost so far (db_pool.Link.generation)

    @property
    def user_signins(self) -> int:
        """Password sign-ins of the configured user so far (a server only)."""
        return self._user_signin.signins

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

    def _connection(self):
        link = self._link()
        if link.conn is not None and link.generation < self._losses \
                and getattr(self._local, "identity", None) is None:
            # Opened before a connection to the server was lost: a restarted server dropped
            # them all, so it is opened again rather than failing a request first.
            self._discard()
            link.lost = True
        if link.conn is None:
            if getattr(self._local, "identity", None) is not None:
                # Dropped inside this block (_discard): a new connection would be at rest,
                # not the identity the block switched to.
                if self.embedded:
                    raise DataUnwritable("the connection was dropped after a storage failure")
                raise DatabaseUnavailable(f"lost the connection to {self.url}", retry_after=1)
            with self._open_lock:
                link.conn, link.generation = self._open(link), self._losses
        return link.conn

    def _open(self, link: Link):
        """A new connection for ``link``, signed in at rest (the caller holds the open lock)."""
        if (wait := self._backoff.wait()) > 0:
            raise DatabaseUnavailable(f"{self.url} did not answer; trying again in {wait:.1f} s",
                                      retry_after=math.ceil(wait))
        path = self._data_path()
        if path is not None:
            self._data_lock.take(path)
            # Without it a commit is written but not flushed to disk: it survives the
            # process's death, not the machine's. The engine reads this once per process.
            os.environ["SURREAL_SYNC_DATA"] = "true" if self.config.db_sync else "false"
            # The engine's own bound is far above what a process should hold: its cache
            # keeps the values written and read until it is reached (docs/architecture.md).
            os.environ["SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE"] = str(
                self.config.db_value_cache)
        try:
            conn = Surreal(self.url)
            if self.embedded:  # a server's socket opens with the first call below
                conn.connect()
            if not self.embedded and self.config.db_user:
                self._user_signin.apply(conn)
            conn.use(self.config.db_namespace, self.config.database)
        except DatabaseError:
            raise
        except Exception as exc:  # the SDK raises bare exceptions for transport failures
            self._data_lock.release()
            if not self.embedded:
                delay = self._backoff.failed()
                log.warning("cannot reach the database at %s (attempt %d): %s; trying "
                            "again in %.1f s", self.url, self._backoff.failures, exc, delay)
                raise DatabaseUnavailable(f"cannot open {self.url}: {exc}",
                                          retry_after=math.ceil(delay)) from exc
            unwritable = isinstance(map_error(str(exc)), DataUnwritable)
            kind = DataUnwritable if unwritable else DatabaseUnavailable
            raise kind(f"cannot open {self.url}: {exc}") from exc
        if self._backoff.failures or link.lost:
            self.reconnects += 1
            log.warning("reconnected to the database at %s", self.url)
        self._backoff.succeeded()
        link.lost, link.signed_in = False, None
        return conn

    def _transport_lost(self, exc: Exception) -> bool:
        """Whether ``exc`` means the server connection is gone; if so it is dropped (the SDK
        never reopens its socket) and the next block opens a new one."""
        if self.embedded or not isinstance(exc, TRANSPORT_ERRORS):
            return False
        link = self._link()
        if link.conn is not None:
            log.warning("lost the connection to the database at %s: %s", self.url, exc)
            self._discard()
            link.lost = True
            self._losses += 1
        return True

    def _discard(self) -> None:
        """Drop the connection: a server's whose transport failed, or the embedded engine's
        after a storage failure (it fails every later write, even once space returns; the lock
        is kept). The next block opens it again."""
        link = self._link()
        conn, link.conn, link.signed_in = link.conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # it failed already; what matters is not to use it again
                pass

    def _unavailable(self, exc: Exception) -> DatabaseUnavailable:
        return DatabaseUnavailable(f"lost the connection to {self.url}: {exc}", retry_after=1)

    def _failure(self, exc: Exception | str) -> Exception:
        if isinstance(exc, Exception) and self._transport_lost(exc):
            return self._unavailable(exc)
        error = map_error(str(exc))
        if isinstance(error, DataUnwritable) and self._data_path() is not None:
            self._discard()
        return error

    def close(self) -> None:
        """Close the connections (the embedded one once its block ends), release the file."""
        with self._pool.hold() if self.embedded else nullcontext():
            for link in self._pool.links:
                conn, link.conn, link.signed_in = link.conn, None, None
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # a server's that was lost already
                        if self.embedded:
                            raise
        self._data_lock.release()

    # -- tokens -----------------------------------------------------------------------------
    def mint_token(self, access: str, record: str, seconds: int | None = None,
                   now: int | None = None) -> str:
        """A record-access JWT for ``record`` under ``access``, signed with the configured key."""
        return mint_record_token(
            self._jwt_key, self.config, access, record,
            seconds if seconds is not None else self.config.db_token_seconds,
            int(time.time()) if now is None else now)

    # -- identities -------------------------------------------------------------------------
    @contextmanager
    def session(self, identity: Identity) -> Iterator[Session]:
        """Hold the connection as ``identity`` for the block.

        The connection stays signed in as ``identity`` afterwards, so that the next block of the
        same identity (token still valid, no write since) needs no authentication; any other
        identity switches explicitly, ``system`` included (it returns the connection to root).
        """
        with self._pool.hold() as link:
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
            link.wrote = False
            ok = False
            try:
                self._switch(conn, identity)
                yield session
                ok = True
            finally:
                session.open = False
                self._local.identity = None
                if (link.wrote or not ok) and link.signed_in is not None:
                    self._reset(conn)

    def _switch(self, conn, identity: Identity) -> None:
        link = self._link()
        if identity == SYSTEM:
            if link.signed_in is not None:
                self._reset(conn)
            return
        if link.signed_in == identity and time.time() < link.signed_in_until:
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
            if self._transport_lost(exc):
                raise self._unavailable(exc) from exc
            self._reset(conn)
            raise NotAllowed(f"{identity.access} token refused: {exc}") from exc
        link = self._link()
        link.signed_in = identity
        # Reused until shortly before it expires: a block never starts on a token about to end.
        link.signed_in_until = now + seconds - max(1, min(10, seconds // 4))

    def _signin_hub(self, conn) -> None:
        self.authentications += 1
        try:
            until = self._hub_signin.apply(conn)
        except Exception as exc:
            if self._transport_lost(exc):
                raise self._unavailable(exc) from exc
            self._reset(conn)
            raise NotAllowed(f"hub sign-in refused: {exc}") from exc
        link = self._link()
        link.signed_in, link.signed_in_until = HUB, until

    def _reset(self, conn) -> None:
        """Return the connection to rest: root embedded, the configured user on a server
        (its token, or a password sign-in when the token is near its end or refused). A server
        connection lost on the way is dropped: the next one starts at rest."""
        self._link().signed_in = None
        try:
            conn.invalidate()  # first: authenticating as a user keeps a record identity's $auth
            if not self.embedded and self.config.db_user:
                self._user_signin.apply(conn)
                conn.use(self.config.db_namespace, self.config.database)
        except Exception as exc:
            if not self._transport_lost(exc):
                raise

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
            self._link().wrote = True
        started = time.perf_counter()
        try:
            response = conn.query_raw(sql, vars)
        except Exception as exc:
            raise self._failure(exc) from exc
        finally:
            self.query_seconds += time.perf_counter() - started
        if "error" in response:
            raise self._failure(str(response["error"].get("message", response["error"])))
        statements = response.get("result", [])
        failed = [str(st.get("result")) for st in statements if st.get("status") != "OK"]
        if failed:
            # Inside a transaction every statement after the failing one reports only that it
            # was not executed: raise the one that says why.
            cause = next((f for f in failed if _NOT_EXECUTED not in f), failed[0])
            raise self._failure(cause)
        return [st.get("result") for st in statements]

    def raw(self, sql: str, vars: dict | None = None) -> list[dict]:
        """Every statement's status and result, unchecked (the migration runner reports them)."""
        if self.current_identity() != SYSTEM:
            raise RuntimeError("raw queries run only inside db.system()")
        self.query_count += 1
        try:
            response = self._connection().query_raw(sql, vars or {})
        except Exception as exc:
            if self._transport_lost(exc) or not isinstance(exc, RuntimeError):
                raise self._failure(exc) from exc
            # The embedded engine raises a parse error instead of reporting it per statement.
            return [{"status": "ERR", "result": str(exc)}]
        if "error" in response:  # a server reports it as the call's error
            return [{"status": "ERR", "result": str(response["error"].get("message"))}]
        return response.get("result", [])

    # -- sign-in through the member access ----------------------------------------------------
    def record_signin(self, access: str, variables: dict, signup: bool = False) -> str:
        """Run the access's SIGNIN (or SIGNUP) clause; return the record id it resolved to.

        The password is checked by the database (argon2); the connection is returned to its
        resting state before it is freed.
        """
        with self._pool.hold():
            if getattr(self._local, "identity", None) is not None:
                raise RuntimeError("sign-in inside another database session")
            conn = self._connection()
            payload = {"namespace": self.config.db_namespace, "database": self.config.database,
                       "access": access, "variables": variables}
            self._local.identity = Identity(access)
            try:
                (conn.signup if signup else conn.signin)(payload)
                auth = conn.query_raw("RETURN $auth.id")["result"][0]["result"]
            except Exception as exc:
                raise self._failure(exc) from exc
            finally:
                self._local.identity = None
                if self._link().conn is conn:  # not dropped after a storage failure
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
