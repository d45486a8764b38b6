"""No query scans a table that grows: every statement the app can send is run through ``EXPLAIN``.

Three sources of statements, each checked on the real engine:

- every SurrealQL string written in the app's code (``idance_web``, the demo loader, the
  migration runner and the schema document excepted), with its variables unset;
- every statement a walk through the pages sends (visitor, members, a group and its site),
  captured with its real variables — this covers the queries the code assembles;
- the database's own statements that requests set off: functions, events, and table and field
  permissions.

Each ``SELECT`` in them (nested ones included) is explained as it is; an ``UPDATE``, ``DELETE`` or
``UPSERT`` of a table is explained as the ``SELECT`` of its ``WHERE``. A plan that iterates a
whole table (``Iterate Table``, ``Iterate Table Count``) fails the test, unless the table is
small and fixed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from surrealdb import RecordID

from tests.fixtures.auth import AuthActions, csrf_token
from tests.fixtures.sites import Editor
from tests.fixtures.vlogs import post_images
from tests.surql_statements import STATEMENT, probe, statements

APP = Path(__file__).resolve().parents[2] / "idance_web"
NOT_REQUESTS = {"migrate.py", "schema_doc.py"}
NOT_REQUEST_PACKAGES = ("demo/", "backup/")  # run from the command line or a nightly job
# Tables whose size is fixed by the lookup data or by the schema: scanning them costs the same
# at any community size (`city` is not one: 34,000 rows are scanned by nothing).
SMALL = {"country", "state", "county", "dance_style", "interest", "social_platform",
         "migration", "identity"}
SCANS = ("Iterate Table", "Iterate Table Count")
# Background and operator work that reads a whole table by design, never inside a request.
BACKGROUND = {
    "SELECT * FROM job WHERE state = 'done'": "the worker's clean-up of finished jobs",
    "SELECT state, count() AS n FROM job GROUP BY state": "`idance jobs`, an operator's count",
    "SELECT record::id(id) AS key, vector FROM profile_embedding":
        "refresh_similar: exact neighbour lists read every vector, in the worker",
    "SELECT record::id(id) AS key, vector FROM vlog_embedding":
        "refresh_related: exact related lists read every vector, in the worker",
}



def with_defaults(sql: str, variables: dict) -> dict:
    """``variables`` plus stand-ins for those a clause cannot do without (``LIMIT``, ``START``,
    a KNN operand) when the statement was found without them: they do not change the plan."""
    filled = dict(variables)
    for name in re.findall(r"\b(?:LIMIT|START)\s+\$(\w+)", sql):
        filled.setdefault(name, 1)
    for name in re.findall(r"<\|[^|]*\|>\s*\$(\w+)", sql):
        filled.setdefault(name, [1.0, 0.0, 0.0])
    for name in re.findall(r"\bIN\s+\$(\w+)", sql):  # a list of ids (NONE would scan)
        filled.setdefault(name, [])
    for name in re.findall(r"record::id\(\$(\w+)\)", sql):  # a record, or the call fails
        filled.setdefault(name, RecordID("user", "x"))
    return filled


def scans(plan) -> list[str]:
    """The growing tables a plan iterates whole."""
    if not isinstance(plan, list):
        return []
    return [step["detail"].get("table", "?") for step in plan
            if isinstance(step, dict) and step.get("operation") in SCANS
            and step.get("detail", {}).get("table") not in SMALL]


def test_the_finder_sees_nested_statements_and_where_clauses():
    text = """LET $g = (SELECT id FROM group WHERE slug = $s LIMIT 1)[0];
        UPDATE group_member SET role = 'x' WHERE group = $g.id AND (SELECT 1) RETURN NONE;
        INSERT INTO city $rows ON DUPLICATE KEY UPDATE name = 'a; UPDATE x';
        DELETE $id WHERE site = $site; UPSERT counter:members SET value += 1;"""
    found = statements(text)
    assert [k for k, _ in found] == ["SELECT", "UPDATE", "SELECT", "DELETE", "UPSERT"]
    assert found[0][1] == "SELECT id FROM group WHERE slug = $s LIMIT 1"
    assert probe(*found[1]) == ("SELECT * FROM group_member WHERE group = $g.id AND (SELECT 1)"
                                " EXPLAIN")
    assert probe(*found[3]) is None and probe(*found[4]) is None
    assert probe("DELETE", "DELETE follow WHERE in = $me") == (
        "SELECT * FROM follow WHERE in = $me EXPLAIN")
    assert probe("UPDATE", "UPDATE profile SET x = 1") == "SELECT * FROM profile  EXPLAIN"
    assert scans([{"operation": "Iterate Table", "detail": {"table": "site"}},
                  {"operation": "Iterate Table", "detail": {"table": "country"}}]) == ["site"]


# -- the three sources -------------------------------------------------------------------------

def code_statements() -> list[tuple[str, str]]:
    """(where, SurrealQL) of every string constant in the app that holds a statement."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        name = path.relative_to(APP).as_posix()
        if name in NOT_REQUESTS or name.startswith(NOT_REQUEST_PACKAGES):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                 for v in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in parts and STATEMENT.search(node.value):
                found.append((f"{name}:{node.lineno}", node.value))
    return found


def schema_statements(db) -> list[tuple[str, str]]:
    """(where, SurrealQL) of the functions, events and permissions of the migrated schema."""
    found = []
    with db.system() as s:
        info = s.value("INFO FOR DB")
        found += [(f"function {n}", text) for n, text in info["functions"].items()]
        for table, definition in info["tables"].items():
            found.append((f"table {table}", definition))
            detail = s.value(f"INFO FOR TABLE `{table}`")
            found += [(f"event {table}.{n}", text) for n, text in detail["events"].items()]
            found += [(f"field {table}.{n}", text) for n, text in detail["fields"].items()]
    return found


def walk_the_pages(app, db, make_user) -> list[tuple[str, str, dict]]:
    """Sign up, build and publish a site, run a group, browse: every batch sent, as
    (where, SurrealQL, variables)."""
    sent: list[tuple[str, str, dict]] = []
    real = db._run

    def capture(sql, vars):
        sent.append(("page walk", sql, dict(vars)))
        return real(sql, vars)

    db._run = capture
    try:
        _walk(app, db, make_user)
    finally:
        del db._run
    return sent


def _walk(app, db, make_user) -> None:
    visitor = app.test_client()
    alice = AuthActions(app.test_client())
    alice.signup("alice", display_name="Alice Moreau")
    make_user("bob")
    bob = AuthActions(app.test_client())
    bob.login(email="bob@example.com")
    client = alice.client

    def get(who, path):
        response = who.get(path)
        assert response.status_code < 500, (path, response.status_code)
        return response

    def post(path, who=client, **data):
        response = who.post(path, data={"csrf_token": csrf_token(who, "/me/settings"), **data})
        assert response.status_code < 500, (path, response.status_code)
        return response

    for path in ("/", "/me", "/me/profile", "/api/cities?q=ber", "/me/settings",
                 "/me/settings/export"):
        assert client.get(path).status_code == 200, path
    _walk_setup(client, get, post)
    post("/me/profile", display_name="Alice Moreau", bio="Salsa", city_query="Berlin",
         birth_date="1990-05-01",
         **{"styles-0-style": "salsa", "styles-0-level": "advanced", "styles-0-role": "lead",
            "discoverable": "y"})
    bob.client.post("/me/profile", data={
        "csrf_token": csrf_token(bob.client, "/me/profile"), "display_name": "Bob",
        "city_query": "Berlin", "birth_date": "1991-02-03", "discoverable": "y"})
    for path in ("/discover", "/discover?radius_km=100&style=salsa&role=lead&age_min=20",
                 "/discover/groups", "/discover/liked-you", "/discover/passed", "/matches",
                 "/u/bob", "/me/blocked"):
        get(client, path)
    post("/u/bob/swipe", direction="like")
    post("/u/alice/swipe", who=bob.client, direction="like")
    post("/u/bob/follow")
    get(client, "/matches")
    _walk_vlogs(client, bob.client, visitor, get, post)
    # Their chat: the list, the history, sending, reading, muting.
    chat_path = re.search(r'href="(/chat/[^"#]+)"',
                          client.get("/matches").get_data(as_text=True)).group(1)
    post(chat_path + "/messages", body="Hello Bob", idempotency_key="walk-key-0001")
    for who in (client, bob.client):  # her home: a match, an unread chat, dancers nearby
        get(who, "/")
    for who in (client, bob.client):
        get(who, "/chat")
        get(who, chat_path)
    post(chat_path + "/read", who=bob.client)
    post(chat_path + "/mute", who=bob.client, muted="1")
    # Notifications: the list, a page after a cursor, one read, all read, her preferences.
    page = get(bob.client, "/notifications").get_data(as_text=True)
    for key in re.findall(r'data-keys="([a-z0-9 ]+)"', page)[:1]:
        post("/notifications/read", who=bob.client, ids=key.split())
        get(bob.client, f"/notifications/{key.split()[0]}")
    get(bob.client, "/notifications?after=1:x")
    post("/notifications/read-all", who=bob.client)
    saved = post("/me/settings/notifications", **{
        "nt-csrf_token": csrf_token(client, "/me/settings"), "nt-in_app": ["match"],
        "nt-push": ["match"]})
    assert saved.status_code == 303
    site = Editor(client)
    site.post("/create")
    for kind, fields in (("hero", {"title": "Hi"}), ("text", {"body": "About me"}),
                         ("styles", {}), ("vlogs", {"count": "3"}),
                         ("schedule", {"items-0-title": "Class", "items-0-weekday": "monday"}),
                         ("contact", {"title": "Write"})):
        site.add(kind, **fields)
    site.post("/pages", {"slug": "classes", "title": "Classes"})
    site.add("text", page="classes", body="Classes")
    assert client.get("/me/site").status_code == 200
    key = re.search(r'/me/site/blocks/([a-z0-9]+)"', client.get("/me/site").get_data(
        as_text=True)).group(1)
    get(client, f"/me/site/blocks/{key}")
    site.post(f"/blocks/{key}", {"title": "Hello"})
    for action in ("down", "up", "hide", "show", "duplicate"):
        site.post(f"/blocks/{key}/{action}")
    site.post("/settings", {"theme": "ocean", "font": "classic"})
    get(client, "/me/site/preview")
    site.publish()
    for path in ("/@alice", "/@alice/classes", "/@alice/schedule.ics", "/", "/sitemap.xml",
                 "/sitemap-1.xml", "/robots.txt", "/healthz", "/api/header", "/@bob"):
        get(visitor, path)
        get(client, path)
    visitor.post("/@alice/contact", data={"name": "Vi", "email": "vi@example.com",
                                          "message": "Hello there, a question about classes."})

    # A group: created, run, given a site, browsed, followed, left, deleted.
    form = {"kind": "studio", "slug": "salsa-lab", "name": "Salsa Lab", "city_query": "Berlin",
            "styles": ["salsa"], "join_mode": "request", "visibility": "public",
            "csrf_token": csrf_token(client, "/groups/new")}
    client.post("/groups/new", data=form)
    for path in ("/groups", "/groups?style=salsa", "/groups?city=Berlin",
                 "/groups?city=Berlin&style=salsa", "/groups?after=1:x", "/groups/salsa-lab",
                 "/g/salsa-lab/manage", "/g/salsa-lab/manage/details", "/g/salsa-lab/manage/site"):
        get(client, path)
        get(bob.client, path)
    # Search: dancers (alice has a published site) and groups, as a visitor and as members.
    for q in ("ali", "alice moreau", "@alice", "salsa lab", "bo", "s", "", "💃"):
        for who in (visitor, client, bob.client):
            get(who, f"/search?q={q}")
    post("/g/salsa-lab/manage/details", kind="studio", name="Salsa Lab Berlin",
         city_query="Berlin", styles=["salsa"], join_mode="open", visibility="public")
    post("/g/salsa-lab/join", who=bob.client)
    post("/g/salsa-lab/chat")
    get(bob.client, "/g/salsa-lab/chat")
    post("/g/salsa-lab/follow", who=bob.client)
    post("/g/salsa-lab/manage/members/bob/promote")
    post("/g/salsa-lab/manage/invite", username="nobody")
    group_site = Editor(client, "/g/salsa-lab/manage/site")
    group_site.post("/create")
    group_site.add("members", title="Who we are")
    group_site.publish()
    for path in ("/g/salsa-lab", "/g/salsa-lab/schedule.ics", "/sitemap-1.xml"):
        get(visitor, path)
    post("/g/salsa-lab/unfollow", who=bob.client)
    post("/g/salsa-lab/leave", who=bob.client)
    post("/g/salsa-lab/manage/delete", confirm="salsa-lab")
    site.post("/unpublish")
    post("/me/settings/sessions/sign-out-others")
    deleted = post("/me/settings/delete", **{"del-password": "correct horse battery",
                                             "del-confirm": "alice", "del-really": "y"})
    assert deleted.status_code == 302


def _walk_setup(client, get, post) -> None:
    """Her set-up after sign-up: every step's page, saves, a refusal, a skip, a starter site
    written to the draft, the step again once her site has content, and the end."""
    for path in ("/me/welcome", "/me/welcome/city", "/me/welcome/styles",
                 "/me/welcome/picture", "/me/welcome/site", "/me/welcome/done"):
        get(client, path)
    post("/me/welcome/city", city_query="Berlin")
    post("/me/welcome/city", city_query="Atlantis")
    post("/me/welcome/styles", **{"styles-0-style": "salsa", "styles-0-level": "advanced",
                                  "styles-0-role": "lead"})
    post("/me/welcome/picture/skip")
    post("/me/welcome/site", layout="stage", edit="y")
    get(client, "/me/welcome/site")
    post("/me/welcome/site", layout="portrait", publish="y")  # refused: her site has content
    post("/me/welcome/finish")
    get(client, "/me/welcome/done")


def _walk_vlogs(client, other, visitor, get, post) -> None:
    """Post, list, read, like, comment, tag, report, edit and delete vlogs."""
    made = post_images(client, title="Walk", styles=["salsa"], partner="bob")
    key = made.headers["Location"].rsplit("/", 1)[1]
    post_images(other, title="Bob's", visibility="followers")
    for path in ("/vlogs", "/vlogs/explore", "/vlogs/explore?style=salsa", f"/vlogs/{key}",
                 "/vlogs/new", f"/vlogs/{key}/edit", "/vlogs?after=1:x",
                 "/vlogs/explore?style=salsa&after=1:x"):
        get(client, path)
        get(other, path)
        get(visitor, path)
    post(f"/vlogs/{key}/like", who=other, like="1")
    post(f"/vlogs/{key}/like", who=other, like="0")
    post(f"/vlogs/{key}/comments", who=other, body="Lovely")
    comment = re.search(r'id="c-([a-z0-9]+)"', other.get(f"/vlogs/{key}").get_data(
        as_text=True)).group(1)
    post(f"/vlogs/{key}/comments", body="Thanks", parent=comment)
    post(f"/vlogs/{key}/comments/{comment}/edit", who=other, body="Lovely!")
    post(f"/vlogs/{key}/comments/{comment}/hide", hidden="1")
    post(f"/vlogs/{key}/comments/{comment}/delete", who=other)
    post(f"/vlogs/{key}/partner", who=other, answer="approved")
    post(f"/vlogs/{key}/report", who=other, **{"report-reason": "spam",
                                               "report-csrf_token": csrf_token(other, "/vlogs")})
    post(f"/vlogs/{key}/edit", title="Walked", visibility="followers", styles=["salsa"])
    get(visitor, f"/vlogs/{key}")
    post(f"/vlogs/{key}/delete")


# -- the test ----------------------------------------------------------------------------------

def explain(db, sources) -> tuple[list[str], list[str], int]:
    """(scans found, probes the engine refused, probes run) for every statement in
    ``sources`` of (where, SurrealQL[, variables])."""
    found, refused, seen = [], [], set()
    with db.system() as s:
        for where, text, *rest in sources:
            for keyword, statement in statements(text):
                sql = probe(keyword, statement)
                if sql is None or (sql, where) in seen:
                    continue
                seen.add((sql, where))
                try:
                    plan = s.query(sql, with_defaults(sql, rest[0] if rest else {}))[-1]
                except Exception as exc:  # noqa: BLE001 - reported below with its statement
                    refused.append(f"{where}: {sql}\n    {str(exc)[:200]}")
                    continue
                found += [f"{where}: {table} scanned by\n    {sql}" for table in scans(plan)]
    return found, refused, len(seen)


@pytest.fixture
def sources(app, db, make_user):
    walked = walk_the_pages(app, db, make_user)
    return {"code": code_statements(), "schema": schema_statements(db), "pages": walked}


def test_no_statement_scans_a_table_that_grows(db, sources):
    assert len(sources["code"]) > 50 and len(sources["pages"]) > 100
    problems, refused, probed = [], [], 0
    for name in ("code", "schema", "pages"):
        found, cannot, count = explain(db, sources[name])
        problems += found
        refused += cannot
        probed += count
    assert probed > 150
    problems = [p for p in problems if not any(known in p for known in BACKGROUND)]
    assert not problems, "full table scans:\n" + "\n".join(problems)
    assert not refused, "statements the engine could not explain:\n" + "\n".join(refused)
