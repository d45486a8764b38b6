"""The database as SurrealQL, in the shape ``surreal export`` (SurrealDB 2.x) writes.

``OPTION IMPORT``, then the database's definitions (params, functions, analyzers, …), then
for each table its definitions (table, fields, indexes, events) followed by its rows as
``INSERT [ … ];`` (``INSERT RELATION [ … ];`` for a relation table), in batches. The table
list comes from ``INFO FOR DB``, so tables added by later migrations are included as they
come. Left out: database users and access definitions, which carry the hub's password hash
and the JWT key; ``idance migrate`` re-applies both from the configuration.

Two departures from the official file, both still importable by ``surreal import``:
``DEFINE FIELD OVERWRITE`` on every field (a relation table defines its ``in``/``out`` fields
itself, and a plain ``DEFINE FIELD in`` fails on import; for the other fields of the empty
database a restore needs it changes nothing), and each ``INSERT`` statement is one line (raw
line breaks inside strings are written as ``\\n``), so a restore reads a statement at a time.

Every row is hashed as the engine's own SurrealQL literal (``<string>`` of the row): a table's
hash is SHA-256 over the sorted SHA-256s of its rows, the same whichever order or batch size
read them. A restore reads the restored rows back the same way and compares.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, TextIO

RULE = "-- ------------------------------"
BATCH_ROWS = 1000
# INFO FOR DB keys written before the tables, in the official export's order (models, configs
# and apis after them: the app defines none today, a later one would be kept).
DB_SECTIONS = (("PARAMS", "params"), ("FUNCTIONS", "functions"), ("ANALYZERS", "analyzers"),
               ("MODELS", "models"), ("CONFIGS", "configs"), ("APIS", "apis"))
LEFT_OUT = ("-- USERS and ACCESSES are not in this file: they carry the hub user's password "
            "hash and the JWT key;\n-- `idance migrate` defines them again from the "
            "configuration (IDANCE_DB_JWT_KEY).")
_ROWS = "SELECT VALUE <string> $this FROM type::table($table) LIMIT $limit START $start"

Progress = Callable[[str, int, int], None]  # (what, done so far, in all): a table's rows


@dataclass
class TableDigest:
    """A table's row count and content hash."""

    rows: int = 0
    _digests: list[bytes] = field(default_factory=list)

    def add(self, literal: str) -> None:
        self.rows += 1
        self._digests.append(hashlib.sha256(literal.encode("utf-8")).digest())

    @property
    def sha256(self) -> str:
        return hashlib.sha256(b"".join(sorted(self._digests))).hexdigest()

    def summary(self) -> dict:
        return {"rows": self.rows, "sha256": self.sha256}


def ident(name: str) -> str:
    """A table name as a SurrealQL identifier (names come from ``INFO FOR DB``)."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def one_line(literal: str) -> str:
    """The literal with raw line breaks escaped: they occur only inside strings, where
    ``\\n`` and ``\\r`` mean the same characters."""
    return literal.replace("\r", "\\r").replace("\n", "\\n")


def _section(out: TextIO, title: str, statements: list[str]) -> None:
    if not statements:
        return
    out.write(f"{RULE}\n-- {title}\n{RULE}\n\n")
    for statement in statements:
        out.write(f"{statement};\n")
    out.write("\n")


def _overwrite(definition: str, kind: str) -> str:
    return definition.replace(f"DEFINE {kind} ", f"DEFINE {kind} OVERWRITE ", 1)


def _table_structure(out: TextIO, name: str, definition: str, info: dict) -> None:
    if info.get("tables") or info.get("lives"):
        raise ValueError(f"table {name}: views and live queries cannot be backed up")
    out.write(f"{RULE}\n-- TABLE: {name}\n{RULE}\n\n{definition};\n\n")
    for kind, key in (("FIELD", "fields"), ("INDEX", "indexes"), ("EVENT", "events")):
        for _, statement in sorted(info[key].items()):
            out.write(f"{_overwrite(statement, kind) if kind == 'FIELD' else statement};\n")
        out.write("\n")


def table_rows(session, name: str, batch: int = BATCH_ROWS):
    """Yield lists of the table's rows as SurrealQL literals, ``batch`` at a time."""
    start = 0
    while True:
        rows = session.value(_ROWS, {"table": name, "limit": batch, "start": start}) or []
        if rows:
            yield rows
        if len(rows) < batch:
            return
        start += batch


def dump(session, out: TextIO | None, progress: Progress | None = None,
         batch: int = BATCH_ROWS) -> dict[str, dict]:
    """Write the database ``session`` sees (a system session) to ``out``; return each
    table's ``{"rows", "sha256"}``. With ``out`` None, only count and hash.

    The caller holds the session for the whole dump: with one connection and its lock, no
    other query of this process runs meanwhile, so on the embedded engine (which no other
    process opens) the file is the database at one moment. On a server other processes
    keep writing, and the pages (``LIMIT … START …``) are no snapshot.
    """
    info = session.value("INFO FOR DB")
    write = out is not None
    if write:
        _section(out, "OPTION", ["OPTION IMPORT"])
        out.write(LEFT_OUT + "\n\n")
        for title, key in DB_SECTIONS:
            _section(out, title, [v for _, v in sorted(info.get(key, {}).items())])
    tables: dict[str, dict] = {}
    for name in sorted(info["tables"]):
        definition = info["tables"][name]
        if write:
            _table_structure(out, name, definition, session.value(f"INFO FOR TABLE {ident(name)}"))
            out.write(f"{RULE}\n-- TABLE DATA: {name}\n{RULE}\n\n")
        insert = "INSERT RELATION" if "TYPE RELATION" in definition else "INSERT"
        total = session.value(f"RETURN count(SELECT id FROM {ident(name)})") if progress else 0
        digest = TableDigest()
        for rows in table_rows(session, name, batch):
            for literal in rows:
                digest.add(literal)
            if write:
                out.write(f"{insert} [ {', '.join(one_line(r) for r in rows)} ];\n")
            if progress:
                progress(name, digest.rows, total)
        if write:
            out.write("\n")
        tables[name] = digest.summary()
    return tables
