"""Every error status gets the site's page, with a way back (home, and where she came from
when that is on this site), and the 429 page says when to try again."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import InternalServerError, MethodNotAllowed, RequestEntityTooLarge

from idance_web.errors import NotAllowed


@pytest.fixture
def raising(app):
    raised = {
        403: NotAllowed("not hers"),
        405: MethodNotAllowed(valid_methods=["GET"]),
        413: RequestEntityTooLarge(),
        500: RuntimeError("boom in a view"),
    }

    @app.get("/raise-status-for-test/<int:code>")
    def raise_it(code):
        raise raised[code]

    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 becomes the page, as in production
    return app


def assert_styled_with_way_back(response, code):
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert 'class="error-page"' in html and f"Error {code}" in html
    assert 'href="/static/css/app.css"' in html or "css/app.css" in html
    assert re.search(r'<nav class="error-ways"[^>]*>.*href="/"', html, re.S), html
    return html


@pytest.mark.parametrize("code", [403, 405, 413, 500])
def test_each_status_renders_the_styled_page_with_a_way_home(raising, client, code):
    html = assert_styled_with_way_back(client.get(f"/raise-status-for-test/{code}"), code)
    assert "Back to where you were" not in html  # no referrer: only home


def test_404_page_offers_home_and_the_page_she_came_from(client):
    response = client.get("/no/such/page", headers={"Referer": "http://localhost/discover?style=salsa"})
    html = assert_styled_with_way_back(response, 404)
    assert 'href="/discover?style=salsa"' in html and "Back to where you were" in html


@pytest.mark.parametrize("referrer", [
    "https://evil.example/discover", "http://localhost.evil.example/x", "javascript:alert(1)",
    "http://localhost//evil.example", "http://localhost/no/such/page",
])
def test_the_way_back_is_never_off_site_nor_the_same_page(client, referrer):
    response = client.get("/no/such/page", headers={"Referer": referrer})
    html = assert_styled_with_way_back(response, 404)
    assert "Back to where you were" not in html and "evil" not in html


def test_500_keeps_the_request_id(raising, client):
    response = client.get("/raise-status-for-test/500")
    html = assert_styled_with_way_back(response, 500)
    assert "boom in a view" not in html
    assert re.search(r"Reference: <code>[^<]+</code>", html)


def test_429_says_when_to_try_again_from_the_limiters_retry_after(auth, client):
    statuses = [auth.signup(f"user{i:02d}", password="x") for i in range(11)]
    response = statuses[-1]
    html = assert_styled_with_way_back(response, 429)
    retry = int(response.headers["Retry-After"])
    assert retry > 0
    shown = re.search(r"Try again in (about )?(\d+) (second|minute)s?", html)
    assert shown, html
    seconds = int(shown.group(2)) * (60 if shown.group(3) == "minute" else 1)
    assert abs(seconds - retry) <= 60 if shown.group(1) else abs(seconds - retry) <= 2


def test_flashes_are_announced_errors_as_alerts(app):
    from flask import flash, render_template_string

    with app.test_request_context("/"):
        flash("Saved.", "success")
        flash("That failed.", "error")
        html = render_template_string('{% include "_partials/flashed_messages.html" %}')
    status = re.search(r'<div class="flashes" role="status" aria-live="polite">(.*?)</div>', html, re.S)
    alert = re.search(r'<div class="flashes" role="alert">(.*?)</div>', html, re.S)
    assert status and "Saved." in status.group(1) and "That failed." not in status.group(1)
    assert alert and "That failed." in alert.group(1)
