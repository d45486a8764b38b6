"""The factory, configuration, CLI, /healthz and the headers every page carries."""

from __future__ import annotations

import pytest

from idance_web import create_app
from idance_web.config import DEV_SECRET_KEY, ConfigError, from_env
from idance_web.security import safe_next
from tests.fixtures.app import make_config


def test_factory_does_not_open_the_database(tmp_path):
    app = create_app(make_config(db_url=f"surrealkv://{tmp_path}/x.db"))
    assert app.extensions["idance.db"]._conn is None
    assert not (tmp_path / "x.db.lock").exists()


def test_environment_overlays_defaults():
    config = from_env({"IDANCE_ENV": "test", "IDANCE_DB_URL": "mem://",
                       "IDANCE_MAX_IMAGE_BYTES": "1234"})
    assert config.db_url == "mem://" and config.max_image_bytes == 1234
    assert config.database == "test"


@pytest.mark.parametrize("env", [
    {"IDANCE_ENV": "production"},
    {"IDANCE_ENV": "production", "IDANCE_SECRET_KEY": DEV_SECRET_KEY},
    {"IDANCE_ENV": "production", "IDANCE_SECRET_KEY": "s" * 40},  # dev JWT key still set
    {"IDANCE_ENV": "production", "IDANCE_SECRET_KEY": "s" * 40, "IDANCE_DB_JWT_KEY": "k" * 40},
])
def test_production_refuses_development_secrets(env):
    with pytest.raises(ConfigError):
        create_app(from_env(env))


def test_production_with_real_secrets_starts_without_migrating():
    config = from_env({"IDANCE_ENV": "production", "IDANCE_SECRET_KEY": "s" * 40,
                       "IDANCE_DB_JWT_KEY": "k" * 40, "IDANCE_DB_URL": "mem://",
                       "IDANCE_PUBLIC_URL": "https://idance.example"})
    app = create_app(config)
    assert config.auto_migrate is False
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_a_key_that_could_break_the_access_literal_is_refused():
    with pytest.raises(ConfigError):
        make_config(db_jwt_key="x" * 40 + "'; REMOVE TABLE user; --").validate()


def test_image_decoders_come_from_the_settings_and_at_least_one_is_needed():
    assert from_env({"IDANCE_IMAGE_DECODERS": "3"}).image_decoders == 3
    assert create_app(make_config(image_decoders=3)).extensions["idance.image_decoders"].size == 3
    with pytest.raises(ConfigError, match="IDANCE_IMAGE_DECODERS"):
        make_config(image_decoders=0).validate()


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"]["ok"] is True
    assert body["database"]["round_trip_ms"] >= 0 and body["version"]


def test_healthz_is_503_when_the_database_does_not_answer():
    app = create_app(make_config(db_url="ws://127.0.0.1:9/rpc"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"]["ok"] is False


def test_html_pages_carry_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "'nonce-"):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"There is nothing here" in response.data


def test_a_database_error_shows_a_generic_page_with_a_request_id(app, client):
    from idance_web.db import DatabaseError

    @app.get("/boom-for-test")
    def boom():
        raise DatabaseError("Found 'x' for field `secret_field`, with record `user:alice`")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert b"secret_field" not in response.data and b"user:alice" not in response.data
    assert b"Reference:" in response.data


def test_the_apps_own_errors_become_their_pages(app, client):
    from idance_web.db_errors import map_error
    from idance_web.errors import NotAllowed, NotFound, Refused

    raised = {
        "missing": NotFound("no such record user:alice"),
        "forbidden": NotAllowed("member token refused: secret_field"),
        "refused": Refused("You own this group: transfer it first."),
        "engine": map_error("Found 'x' for field `secret_field`, with record `user:alice`"),
    }

    @app.get("/raise-for-test/<name>")
    def raise_it(name):
        raise raised[name]

    answers = {name: client.get(f"/raise-for-test/{name}") for name in raised}
    assert {name: r.status_code for name, r in answers.items()} == {
        "missing": 404, "forbidden": 403, "refused": 422, "engine": 400}
    assert b"There is nothing here" in answers["missing"].data
    assert b"You own this group: transfer it first." in answers["refused"].data
    for response in answers.values():
        assert b"secret_field" not in response.data and b"user:alice" not in response.data


@pytest.mark.parametrize("target", [
    "//evil.com", "/\\evil.com", "https:evil.com", "%2F%2Fevil.com", "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x", "https://evil.com/", "/%5Cevil.com", "",
])
def test_next_only_to_same_site_paths(target):
    assert safe_next(target) == "/"


def test_next_keeps_local_paths():
    assert safe_next("/me/settings?tab=1") == "/me/settings?tab=1"


def test_a_wrong_method_is_405_with_allow(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_cli_migrate_status_and_target(config):
    app = create_app(config)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["migrate", "--migration", "0002"])
    assert result.exit_code == 0, result.output
    assert "applied 0002_core_users" in result.output
    status = runner.invoke(args=["migrate", "--status"])
    assert "applied   0002_core_users" in status.output
    assert "pending   0003_lookup_tables" in status.output
    assert runner.invoke(args=["migrate", "--help"]).exit_code == 0


def test_cli_demo_is_refused_in_production():
    config = from_env({"IDANCE_ENV": "production", "IDANCE_SECRET_KEY": "s" * 40,
                       "IDANCE_DB_JWT_KEY": "k" * 40, "IDANCE_DB_URL": "mem://",
                       "IDANCE_PUBLIC_URL": "https://idance.example"})
    result = create_app(config).test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "never loaded in production" in result.output


@pytest.mark.parametrize("path, data", [
    ("/groups?city=Ber%00lin", None),
    ("/@ali%00ce", None),
    ("/signup", {"email": "nul@example.com", "username": "nully", "display_name": "Nu\x00ll",
                 "password": "a-long-password"}),
])
def test_control_characters_are_refused_before_any_view(app, client, db, path, data):
    if data is None:
        response = client.get(path)
    else:
        from tests.fixtures.auth import csrf_token

        response = client.post(path, data={**data, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 400
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM user)") == 0
