"""Public sites: what visitors get (cached, safe, indexable) and what reaches the owner."""

from __future__ import annotations

import datetime as dt
import json
import re

from tests.fixtures.auth import member_id
from tests.fixtures.markup import assert_inert
from tests.fixtures.sites import XSS, poll


def test_stored_xss_in_every_block_field_is_inert(app, alice, visitor):
    payload = " ".join(XSS)
    alice.add("hero", title=payload[:120], subtitle=payload[:240])
    alice.add("text", title=payload[:120], body=payload)
    alice.add("quote", text=payload[:600], author=payload[:120])
    alice.add(
        "pricing",
        title=payload[:120],
        **{
            "items-0-name": payload[:80],
            "items-0-price": "10",
            "items-0-description": payload[:240],
        },
    )
    alice.add(
        "schedule",
        title="S",
        **{
            "items-0-title": payload[:120],
            "items-0-weekday": "monday",
            "items-0-place": payload[:160],
        },
    )
    alice.add("links", **{"items-0-label": payload[:80], "items-0-url": "javascript:alert(1)"})
    alice.add("cta", label="Go", url="javascript:alert(1)")
    alice.add("contact", title=payload[:120], intro=payload[:300])
    alice.publish()
    html = visitor.get("/@alice").get_data(as_text=True)
    assert_inert(html)
    assert "49" not in re.sub(r"[^<]*", "", html) or "{{ 7*7 }}" in html


def test_a_page_is_rendered_in_at_most_three_queries(app, alice, visitor, db):
    kinds = [
        "hero",
        "text",
        "quote",
        "styles",
        "vlogs",
        "schedule",
        "links",
        "pricing",
        "map",
        "cta",
        "contact",
        "text",
    ]
    fields = {
        "hero": {"title": "T"},
        "text": {"body": "b"},
        "quote": {"text": "q"},
        "schedule": {"items-0-title": "c", "items-0-weekday": "monday"},
        "links": {"items-0-label": "l", "items-0-url": "https://example.com"},
        "pricing": {"items-0-name": "n", "items-0-price": "1"},
        "cta": {"label": "go", "url": "/"},
    }
    for kind in kinds:
        assert alice.add(kind, **fields.get(kind, {})).status_code == 302, kind
    alice.publish()
    visitor.get("/")  # warm the lookup of unrelated pages
    before = db.query_count
    first = visitor.get("/@alice")
    miss = db.query_count - before
    assert first.status_code == 200 and first.get_data(as_text=True).count('class="block ') == 12
    assert miss <= 3
    before = db.query_count
    assert visitor.get("/@alice").status_code == 200
    assert db.query_count == before  # a cache hit costs no query


def test_cache_headers_304_and_nothing_personal(app, alice, visitor):
    alice.add("text", body="Cached")
    alice.publish()
    first = visitor.get("/@alice")
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = visitor.get("/@alice", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    signed_in = alice.client.get("/@alice")  # the owner herself, with a session cookie
    for response in (first, signed_in):
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
        body = response.get_data(as_text=True)
        assert "csrf_token" not in body and "Sign out" not in body and "Alice Moreau" in body
    assert signed_in.get_data() == first.get_data()
    header = alice.client.get("/api/header")
    assert "Sign out" in header.get_data(as_text=True)
    assert header.headers["Cache-Control"] == "private, no-store"


def test_the_change_feed_drops_pages_whose_live_data_changed(app, alice, visitor, db):
    alice.add("styles", title="What I dance")
    alice.publish()
    assert "Salsa" not in visitor.get("/@alice").get_data(as_text=True)
    me = member_id(db, "alice")
    with db.member(str(me.id)) as s:
        s.query(
            "RELATE $me->user_dance_style->dance_style:salsa SET level = 'advanced', role = 'lead'",
            {"me": me},
        )
    assert "Salsa" not in visitor.get("/@alice").get_data(as_text=True)  # still cached
    poll(app)
    assert "Salsa" in visitor.get("/@alice").get_data(as_text=True)


def test_schedule_hides_past_dates_and_offers_an_ics_file(alice, visitor):
    past = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    future = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    alice.add(
        "schedule",
        title="Classes",
        **{
            "items-0-title": "Weekly salsa",
            "items-0-weekday": "tuesday",
            "items-0-time": "19:30",
            "items-1-title": "Past workshop",
            "items-1-date": past,
            "items-2-title": "Future festival",
            "items-2-date": future,
        },
    )
    bad_time = alice.add(
        "schedule", **{"items-0-title": "Bad", "items-0-weekday": "monday", "items-0-time": "25:99"}
    ).get_data(as_text=True)
    assert "Use HH:MM (24-hour)." in bad_time
    errors = alice.add("schedule", **{"items-0-title": "No day"}).get_data(as_text=True)
    assert "Give a weekday or a date." in errors
    alice.publish()
    html = visitor.get("/@alice").get_data(as_text=True)
    assert "Weekly salsa" in html and "Future festival" in html and "Past workshop" not in html
    ics = visitor.get("/@alice/schedule.ics")
    body = ics.get_data(as_text=True)
    assert ics.mimetype == "text/calendar"
    assert "RRULE:FREQ=WEEKLY;BYDAY=TU" in body and "Future festival" in body
    assert "Past workshop" not in body


def test_seo_tags_json_ld_sitemap_and_robots(app, alice, visitor):
    alice.post(
        "/settings",
        {
            "theme": "ocean",
            "font": "classic",
            "seo_title": "Alice — salsa",
            "seo_description": "Salsa classes in Berlin",
        },
    )
    alice.add("text", body="Hi")
    alice.publish()
    html = visitor.get("/@alice").get_data(as_text=True)
    assert "<title>Alice — salsa</title>" in html
    assert 'name="description" content="Salsa classes in Berlin"' in html
    assert 'rel="canonical" href="http://localhost/@alice"' in html
    assert 'property="og:title"' in html and 'name="twitter:card"' in html
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    )
    assert data["@type"] == "Person" and data["name"] == "Alice Moreau"
    assert "theme-ocean" in html and "font-classic" in html
    assert html.count("<h1") == 1
    assert "<loc>http://localhost/sitemap-1.xml</loc>" in visitor.get("/sitemap.xml").get_data(
        as_text=True
    )
    assert "<loc>http://localhost/@alice</loc>" in visitor.get("/sitemap-1.xml").get_data(
        as_text=True
    )
    assert "Sitemap: http://localhost/sitemap.xml" in visitor.get("/robots.txt").get_data(
        as_text=True
    )


def test_contact_reaches_the_owner_without_publishing_her_email(app, alice, visitor, db):
    alice.add("contact", title="Write to me")
    alice.publish()
    html = visitor.get("/@alice").get_data(as_text=True)
    assert "alice@example.com" not in html
    sent = visitor.post(
        "/@alice/contact",
        data={"name": "Bo", "email": "bo@example.com", "message": "Private lesson?"},
    )
    assert sent.status_code == 303
    refused = visitor.post(
        "/@alice/contact", data={"name": "", "email": "x", "message": "Kept words"}
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Kept words" in page and 'id="contact-email-error"' in page
    visitor.post(
        "/@alice/contact",
        data={"name": "Bot", "email": "b@example.com", "message": "spam", "website": "http://spam"},
    )
    with db.member(str(member_id(db, "alice").id)) as s:
        texts = s.value("SELECT VALUE text FROM notification")
    assert len(texts) == 1 and "Private lesson?" in texts[0] and "bo@example.com" in texts[0]


def _payload_for(field, payload):
    """The XSS payload, cut to fit the field, or a valid value where the kind demands one."""
    if field.kind in ("url", "link"):
        return "javascript:alert(1)"
    if field.kind == "choice":
        return field.options[0]
    if field.kind == "int":
        return "3"
    if field.kind == "date":
        return (dt.date.today() + dt.timedelta(days=2)).isoformat()
    if field.kind == "time":
        return "19:00"
    if field.kind in ("bool", "image"):
        return ""
    return payload[: field.max]


def test_every_text_field_of_every_block_type_is_inert(app, alice, visitor):
    """The XSS corpus in every field of every member block type (links refused or made inert)."""
    from idance_web.blocks import types_for

    payload = " ".join(XSS)
    for block in types_for("user"):
        images = block.fields + (block.items.fields if block.items else ())
        if any(f.kind == "image" and f.required for f in images):
            continue  # image blocks are covered by the upload tests: alt text is escaped there
        fields = {f.name: _payload_for(f, payload) for f in block.fields}
        if block.name == "video":
            fields["url"] = "https://youtu.be/dQw4w9WgXcQ"
        if block.items:
            fields.update(
                {
                    f"items-0-{f.name}": _payload_for(f, payload)
                    for f in block.items.fields
                    if f.kind != "image"
                }
            )
            if block.name == "links":
                fields["items-0-url"] = "https://example.com/?q=<script>"
        response = alice.add(block.name, **fields)
        if response.status_code == 400:  # a refused javascript: link; store the rest
            fields = {
                k: ("https://example.com" if v == "javascript:alert(1)" else v)
                for k, v in fields.items()
            }
            response = alice.add(block.name, **fields)
        assert response.status_code == 302, (block.name, response.get_data(as_text=True)[:200])
    alice.publish()
    html = visitor.get("/@alice").get_data(as_text=True)
    assert_inert(html)
    assert "&lt;script&gt;" in html  # the text is there, as text


def test_a_site_without_a_contact_block_takes_no_messages(alice, visitor):
    alice.add("text", body="No form here")
    alice.publish()
    response = visitor.post(
        "/@alice/contact", data={"name": "Bo", "email": "bo@example.com", "message": "hello"}
    )
    assert response.status_code == 404


def test_unpublishing_is_immediate_and_shared_caches_revalidate(app, alice, visitor):
    # No poll of the change feed here: her own action drops what it changed before it answers.
    alice.add("text", body="Open today")
    alice.publish()
    first = visitor.get("/@alice")
    assert "Open today" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert visitor.get("/@alice", headers={"If-None-Match": first.headers["ETag"]}
                       ).status_code == 304
    assert alice.post("/unpublish").status_code == 302
    gone = visitor.get("/@alice", headers={"If-None-Match": first.headers["ETag"]})
    assert gone.status_code == 200 and "Open today" not in gone.get_data(as_text=True)


def test_a_forged_host_never_reaches_links_or_the_sitemap(app, alice, visitor):
    alice.add("text", body="Hi")
    alice.publish()
    forged = {"Host": "evil.example"}
    html = visitor.get("/@alice", headers=forged).get_data(as_text=True)
    assert 'rel="canonical" href="http://localhost/@alice"' in html
    assert "evil.example" not in html
    for path in ("/sitemap.xml", "/sitemap-1.xml", "/robots.txt"):
        assert "evil.example" not in visitor.get(path, headers=forged).get_data(as_text=True)


def test_links_use_the_configured_server_name(app, alice, visitor):
    alice.add("text", body="Hi")
    alice.publish()
    app.config["IDANCE_SERVING_HOST"] = "127.0.0.1:5000"
    app.extensions["idance.public_cache"].pages.clear()
    html = visitor.get("/@alice", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert 'rel="canonical" href="http://127.0.0.1:5000/@alice"' in html
