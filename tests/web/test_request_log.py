"""The request log: one JSON line per request, with its id and nothing secret; error pages show
the id and never the database's words."""

from __future__ import annotations

import json
import logging

import pytest

from tests.fixtures.auth import PASSWORD, AuthActions


class Lines(logging.Handler):
    """The request log's lines as the process writes them."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())

    def parsed(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def request_log():
    handler = Lines()
    logger = logging.getLogger("idance.request")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_each_request_is_one_json_line(client, request_log):
    client.get("/healthz")
    client.get("/no/such/page")
    first, second = request_log.parsed()
    assert set(first) == {"time", "method", "path", "status", "duration_ms", "request_id"}
    assert (first["method"], first["path"], first["status"]) == ("GET", "/healthz", 200)
    assert first["duration_ms"] >= 0 and first["time"].endswith("+00:00")
    assert (second["path"], second["status"]) == ("/no/such/page", 404)
    assert first["request_id"] != second["request_id"]


def test_a_well_formed_request_id_is_kept_and_another_is_replaced(client, request_log):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-4f2a9c81-77"})
    replaced = client.get("/healthz",  # past the test client's header check, as raw bytes
                          environ_overrides={"HTTP_X_REQUEST_ID": 'x"\n{"status":200}'})
    short = client.get("/healthz", headers={"X-Request-ID": "abc"})
    assert kept.headers["X-Request-ID"] == "lb-4f2a9c81-77"
    for response in (replaced, short):
        assert len(response.headers["X-Request-ID"]) == 32
    ids = [line["request_id"] for line in request_log.parsed()]
    assert ids == [kept.headers["X-Request-ID"], replaced.headers["X-Request-ID"],
                   short.headers["X-Request-ID"]]
    assert len(request_log.lines) == 3  # no forged second line


def test_a_signed_in_member_is_named_and_nothing_secret_is_logged(app, client, request_log):
    actions = AuthActions(client)
    actions.signup("alice")
    actions.logout()
    request_log.lines.clear()
    actions.login(next="/me?token=s3cr3t-token")
    client.get("/me?token=s3cr3t-token&code=abc123")
    text = "\n".join(request_log.lines)
    for secret in (PASSWORD, "s3cr3t-token", "abc123", "alice@example.com", "session",
                   "csrf"):
        assert secret not in text, secret
    form, login, me = request_log.parsed()[-3:]
    assert form["path"] == "/login" and "member" not in form  # not signed in yet
    assert login["path"] == "/login" and login["method"] == "POST"
    assert login["member"] == me["member"]  # signed in by that request
    assert me["path"] == "/me" and me["status"] == 200
    assert me["member"].startswith("user:") and len(me["member"]) > len("user:")
    with app.extensions["idance.db"].system() as s:
        assert s.value("RETURN (SELECT VALUE id FROM user WHERE username = 'alice')[0]"
                       ).id == me["member"].removeprefix("user:")


def test_a_server_error_page_shows_the_request_id_never_the_database_message(
        app, client, request_log, caplog):
    from idance_web.db import DatabaseError

    @app.get("/boom-for-test")
    def boom():
        raise DatabaseError("Found 'x' for field `secret_field`, with record `user:alice`")

    @app.get("/crash-for-test")
    def crash():
        raise ZeroDivisionError("secret_value")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not re-raise

    for path in ("/boom-for-test", "/crash-for-test"):
        response = client.get(path, headers={"X-Request-ID": "trace-0123456789"})
        assert response.status_code == 500
        page = response.get_data(as_text=True)
        assert "trace-0123456789" in page
        assert "secret_field" not in page and "user:alice" not in page
        assert "secret_value" not in page
    assert [line["status"] for line in request_log.parsed()] == [500, 500]
    logged = [r.getMessage() for r in caplog.records if "trace-0123456789" in r.getMessage()]
    # The operator's log has the detail, keyed by the id.
    assert any("secret_field" in m for m in logged)
    assert any("ZeroDivisionError" in m for m in logged)
