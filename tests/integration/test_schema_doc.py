"""docs/schema.md is the schema the migrations make."""

from __future__ import annotations

from pathlib import Path

from idance_web.db import Database
from idance_web.migrate import Runner
from idance_web.schema_doc import render_schema
from tests.fixtures.app import make_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_schema_doc_matches_the_migrations():
    db = Database(make_config())
    Runner(db).run(log=lambda m: None)
    assert DOC.read_text(encoding="utf-8") == render_schema(db), (
        "docs/schema.md is stale: run `idance schema-doc`"
    )
    db.close()
