"""Every POST form of the demo, one field at a time filled with a hostile value: never a 5xx.

The forms are collected by crawling as a demo member (everything she is shown) and as a group
owner (her group's forms). Each field in turn gets the value named by the test (the CSRF token
and the other fields keep what the page gave them); the answer must be a 4xx, the form again
(200) or a redirect, and no other member's profile or site may change. Forms that sign out,
delete the account or end sessions are left out. Security checklist item 45.
"""

from __future__ import annotations

import re

import pytest
from surrealdb import RecordID

from tests.web.crawler import (
    EMPTY_FILE, TEXT_INPUTS, Form, crawl, demo_app, encode, report, request, route_of, signed_in,
)

GROUP = "sol-salsa-studio"
MEMBER = "ana-dubois@demo.idance.example"  # an admin of Tango del Puerto, not of these
OWNER = "lucia-ivanova@demo.idance.example"  # owns Sol Salsa Studio
# Members neither fuzzing account may change: an outsider, and an admin of the owner's group.
OTHERS = [RecordID("user", "demo_002"), RecordID("user", "demo_009")]
OTHER_GROUP = RecordID("group", "demo_north_side_crew")
SKIPPED = ("/logout", "/me/settings/delete", "/me/settings/sessions/sign-out-others")
# Forms that end something (a block, a page, a membership) go last, so the others still work.
LAST = re.compile(r"/(delete|remove|leave|unpublish|transfer|withdraw|decline)\b")

HOSTILE = {
    "empty": "",
    "10k-characters": "x" * 10_000,
    "inf": "inf",
    "nan": "nan",
    "minus-one": "-1",
    "1e309": "1e309",
    "superscript-two": "²",  # a digit to str.isdigit(), not to int()
    "nul": "a\x00b",
    "lone-surrogate": b"a\xed\xa0\x80b",  # U+D800 as UTF-8 would spell it: no str can hold it
    "right-to-left": "\u202eevil.exe\u202c",
    "repeated": None,  # the field sent twice
}
# Numbers only go where one could be typed (not into a checkbox or a select).
NUMERIC = {"inf", "nan", "minus-one", "1e309", "superscript-two"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # Rate limits would answer 429 before the views that the fuzz means to reach.
    with demo_app(tmp_path_factory, rate_limits=False) as app:
        yield app


def kind_of(form: Form) -> str:
    """The block type a new-block form adds ("" for other forms)."""
    return next((f.defaults[0] for f in form.fields
                 if f.name == "kind" and f.kind == "hidden" and f.defaults), "")


def _forms(app, client, starts, keep=lambda form: True) -> list[Form]:
    """One form of each kind the crawl met (64 sites show the same contact form)."""
    seen = crawl(app, client, starts)
    assert not seen.failures, report(seen.failures)
    forms = {}
    for form in seen.post_forms:
        path = form.action.split("?")[0]
        if path in SKIPPED or not keep(form):
            continue
        endpoint, _ = route_of(app, path, "POST")
        action = path.rsplit("/", 1)[-1] if endpoint.endswith(("action", "_change")) else ""
        shape = tuple(sorted({re.sub(r"\d+", "N", f.name) for f in form.fields}))
        forms.setdefault((endpoint, action, kind_of(form), shape), form)
    return sorted(forms.values(), key=lambda f: bool(LAST.search(f.action)))


@pytest.fixture(scope="module")
def accounts(demo):
    """(client, forms) for each fuzzing account, and the others' rows before any fuzzing."""
    member, owner = signed_in(demo, MEMBER), signed_in(demo, OWNER)
    member_forms = _forms(demo, member, ["/", "/me", "/me/site", "/me/profile", "/me/settings",
                                         "/me/welcome/city"])
    # The group's new-block forms are the member's (the same views and validator), but for
    # the block types only groups have: fuzzing them twice doubles the run for nothing.
    kinds = {kind_of(f) for f in member_forms} - {""}

    def groups_own(form):
        return form.action.startswith("/g/") and kind_of(form) not in kinds

    owner_forms = _forms(demo, owner, [f"/g/{GROUP}/manage", f"/g/{GROUP}/manage/site"],
                         keep=groups_own)
    before = others(demo)
    assert all(rows["site"] and rows["blocks"] for rows in before.values())
    return {"member": (member, member_forms), "owner": (owner, owner_forms)}, before


def others(app) -> dict:
    """The rows of other members and another group's site, as the system reads them.

    (One ``=`` per record: ``IN`` over an indexed field finds nothing on this engine.)
    """
    rows = {}
    with app.extensions["idance.db"].system() as s:
        for owner in [*OTHERS, OTHER_GROUP]:
            user, profile, styles, _, site, blocks = s.query(
                """SELECT * FROM user WHERE id = $o;
                   SELECT * FROM profile WHERE owner = $o;
                   SELECT * FROM user_dance_style WHERE in = $o ORDER BY id;
                   LET $site = (SELECT VALUE id FROM site WHERE owner = $o)[0];
                   SELECT * FROM site WHERE id = $site;
                   SELECT * FROM content_block WHERE site = $site ORDER BY id;""",
                {"o": owner})
            rows[str(owner)] = {"user": user, "profile": profile, "styles": styles,
                                "site": site, "blocks": blocks}
    return rows


def fuzzed_fields(form: Form):
    """Each field once (of ``items-0-x``, ``items-1-x`` … the first), never the CSRF token."""
    done = set()
    for f in form.fields:
        shape = re.sub(r"\d+", "N", f.name)
        if f.name != "csrf_token" and shape not in done:
            done.add(shape)
            yield f


def values_for(field, label: str) -> list | None:
    """What to send for ``field``; None where the value says nothing new (a number for a
    checkbox, an empty value for a field that is empty anyway)."""
    if label == "repeated":
        return [(field.defaults or field.options or ("on",))[0]] * 2
    if label in NUMERIC and field.kind not in TEXT_INPUTS:
        return None
    if (HOSTILE[label],) == field.defaults:
        return None
    return [HOSTILE[label]]


@pytest.mark.parametrize("label", HOSTILE)
@pytest.mark.parametrize("who", ["member", "owner"])
def test_hostile_values_never_answer_5xx(demo, accounts, who, label):
    found, before = accounts
    client, forms = found[who]
    assert forms, "the crawl found no forms"
    failures, sent = [], 0
    for form in forms:
        path = form.action
        for field in fuzzed_fields(form):
            values = values_for(field, label)
            if values is None:
                continue
            body, content_type = encode(form.pairs({field.name: values}), form.multipart)
            status, response, why = request(client, "POST", path, data=body,
                                             content_type=content_type)
            sent += 1
            shown = f"POST {path} {field.name}={label} → {status}"
            if status >= 500:
                failures.append(f"{shown} {why}".rstrip())
            elif status == 200 and "<form" not in response.get_data(as_text=True):
                failures.append(f"{shown} without the form")
    assert not failures, report(failures)
    assert sent > 20
    assert others(demo) == before, "another member's profile or site changed"


def test_the_lone_surrogate_goes_on_the_wire_as_it_is():
    body, _ = encode([("name", HOSTILE["lone-surrogate"]), ("file", EMPTY_FILE)], True)
    assert b"a\xed\xa0\x80b" in body and b'filename=""' in body
    assert encode([("name", HOSTILE["lone-surrogate"])], False)[0] == b"name=a%ED%A0%80b"
