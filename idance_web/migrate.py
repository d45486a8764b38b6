"""The migration runner: ``migrations/NNNN_name.surql`` applied in order, once each.

Each file and its ``migration`` row (name, SHA-256 of the file) run in one ``BEGIN``/``COMMIT``
through ``query_raw``, with every statement's status checked: a failing file leaves nothing of
itself applied and the next run retries it. An applied file that changed is refused by name.

Files may hold placeholders the runner fills from configuration: ``{{namespace}}``,
``{{database}}``, ``{{jwt_key}}`` and ``{{hub_password}}``. The key never lives in a file. Lines between
``-- @always`` and ``-- @end`` (access definitions, which carry the key) are re-applied on every
run, so a rotated key takes effect. After ``0003`` the lookup-data step runs (see ``lookup.py``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .db import Database, hub_password

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
LOOKUP_AFTER = "0003"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.surql$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ALWAYS = re.compile(r"^-- @always\s*$(.*?)^-- @end\s*$", re.S | re.M)

BOOTSTRAP = """
DEFINE TABLE IF NOT EXISTS migration SCHEMAFULL PERMISSIONS NONE;
DEFINE FIELD IF NOT EXISTS name ON migration TYPE string;
DEFINE FIELD IF NOT EXISTS checksum ON migration TYPE string;
DEFINE FIELD IF NOT EXISTS applied_at ON migration TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS migration_name ON migration FIELDS name UNIQUE;
"""


class MigrationError(RuntimeError):
    """A migration could not be applied; the message names the file and the statement."""


@dataclass(frozen=True)
class Migration:
    number: str
    name: str
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        """SHA-256 of the file less its ``@always`` sections, which may change: they are
        re-applied on every run (an access definition gains a clause, a key rotates)."""
        stable = _ALWAYS.sub("-- @always (re-applied on every run)\n", self.text)
        return hashlib.sha256(stable.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Status:
    name: str
    state: str  # applied | pending | changed


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Migration files in order."""
    found = []
    for path in sorted(directory.glob("*.surql")):
        m = _NAME.match(path.name)
        if m:
            found.append(Migration(m.group(1), path.stem, path))
    return found


def render(text: str, config: Config) -> str:
    """Fill placeholders with configured values that were checked to be safe literals."""
    for ident in (config.db_namespace, config.database):
        if not _IDENT.match(ident):
            raise MigrationError(f"namespace/database name {ident!r} is not a plain identifier")
    config.validate()  # the key pattern admits no quote or backslash
    return (
        text.replace("{{namespace}}", config.db_namespace)
        .replace("{{database}}", config.database)
        .replace("{{jwt_key}}", config.db_jwt_key)
        .replace("{{hub_password}}", hub_password(config))
    )



class Runner:
    """Applies migrations to one database."""

    def __init__(self, db: Database, directory: Path = MIGRATIONS_DIR, lookup=None):
        self.db = db
        self.directory = directory
        self.lookup = lookup  # callable(session) -> None; the data step after 0003

    def _applied(self, s) -> dict[str, str]:
        self._execute(s, BOOTSTRAP, {}, "bootstrap")
        rows = s.rows("SELECT name, checksum FROM migration")
        return {r["name"]: r["checksum"] for r in rows}

    def status(self) -> list[Status]:
        """Each file's state: applied, pending or changed."""
        with self.db.system() as s:
            applied = self._applied(s)
        out = []
        for m in discover(self.directory):
            if m.name not in applied:
                out.append(Status(m.name, "pending"))
            elif applied[m.name] != m.checksum:
                out.append(Status(m.name, "changed"))
            else:
                out.append(Status(m.name, "applied"))
        return out

    def run(self, target: str | None = None, log=print) -> list[str]:
        """Apply pending files in order (up to and including ``target``); return their names.

        Refuses to start if an applied file changed. Re-applies the ``@always`` sections.
        """
        migrations = discover(self.directory)
        if target is not None:
            if not any(m.number == target or m.name == target for m in migrations):
                raise MigrationError(f"no migration {target!r}")
        done = []
        with self.db.system() as s:
            applied = self._applied(s)
            for m in migrations:
                if m.name in applied and applied[m.name] != m.checksum:
                    raise MigrationError(
                        f"migration {m.path.name} changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
            for m in migrations:
                if m.name not in applied:
                    self._apply(s, m)
                    done.append(m.name)
                    log(f"applied {m.name}")
                else:
                    self._reapply_always(s, m)
                if m.number == LOOKUP_AFTER and self.lookup is not None:
                    self.lookup(s, log)
                if target is not None and (m.number == target or m.name == target):
                    break
        return done

    def _apply(self, s, m: Migration) -> None:
        body = render(m.text, self.db.config)
        sql = (
            "BEGIN TRANSACTION;\n"
            + body
            + "\n;CREATE migration SET name = $__name, checksum = $__checksum;\n"
            + "COMMIT TRANSACTION;"
        )
        self._execute(s, sql, {"__name": m.name, "__checksum": m.checksum}, m.path.name)

    def _reapply_always(self, s, m: Migration) -> None:
        for section in _ALWAYS.findall(m.text):
            self._execute(s, render(section, self.db.config), {}, m.path.name)

    def _execute(self, s, sql: str, vars: dict, label: str) -> None:
        results = self.db.raw(sql, vars)
        failures = [r for r in results if r.get("status") != "OK"]
        if failures:
            # Inside a failed transaction every statement reports the same "not executed"
            # text; the one that broke it is the one that does not.
            cause = next(
                (r for r in failures if "not executed due to a failed" not in str(r["result"])),
                failures[0],
            )
            raise MigrationError(f"{label}: {cause['result']}")
