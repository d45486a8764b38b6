"""Forgotten passwords and address verification, through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import re
import time

import pytest
from idance_web.services import email_links
from tests.fixtures.app import make_config
from tests.fixtures.auth import PASSWORD, AuthActions, csrf_token
from tests.fixtures.mail import deliver, html_of, link_in, text_of

NEW_PASSWORD = "a-brand-new-rhythm"


@pytest.fixture
def config(smtp_server):
    return make_config(smtp_url=smtp_server.url, mail_from="iDance <hello@idance.test>")


def forgot(client, email: str, addr: str = "127.0.0.1"):
    return client.post("/password/forgot", data={
        "email": email, "csrf_token": csrf_token(client, "/password/forgot")},
        environ_base={"REMOTE_ADDR": addr})


def reset_link(app, client, smtp_server, email: str) -> str:
    assert forgot(client, email).status_code == 200
    assert deliver(app) >= 1
    return link_in(smtp_server.inbox.to(email)[-1], "/password/reset/")


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(path, data={"password": password, "confirm": confirm or password,
                                   "csrf_token": csrf_token(client, "/password/forgot")})


def signed_in(client) -> bool:
    return client.get("/me").status_code == 200


def test_the_same_answer_whether_or_not_the_address_exists(app, client, make_user,
                                                             smtp_server):
    make_user("bob")
    known = forgot(client, "bob@example.com")
    unknown = forgot(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    body = known.get_data(as_text=True).replace("bob@example.com", "X")
    assert body == unknown.get_data(as_text=True).replace("nobody@example.com", "X")
    assert "If an account uses" in body
    # Nothing was sent during the request: the worker sends it.
    assert smtp_server.inbox.messages == []
    assert deliver(app) == 1
    assert [m["To"] for m in smtp_server.inbox.messages] == ["bob@example.com"]
    assert smtp_server.inbox.envelopes[0] == ("hello@idance.test", ["bob@example.com"])


def test_a_password_reset_through_the_email(app, client, make_user, smtp_server):
    make_user("bob")
    other = AuthActions(app.test_client())
    other.login(email="bob@example.com")
    assert signed_in(other.client)

    link = reset_link(app, client, smtp_server, "bob@example.com")
    message = smtp_server.inbox.to("bob@example.com")[-1]
    assert message["Subject"] == "Set your iDance password"
    assert message["From"] == "iDance <hello@idance.test>"
    assert "works once, for 1 hour" in text_of(message) and "<a href=" in html_of(message)
    path = path_of(link)
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Set a new password" in page.get_data(as_text=True)

    # Problems show the form again, and the link still works.
    short = set_password(client, path, "short")
    assert short.status_code == 400
    assert "Use at least 10 characters." in short.get_data(as_text=True)
    differ = set_password(client, path, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert differ.status_code == 400
    assert "The two passwords are not the same." in differ.get_data(as_text=True)

    done = set_password(client, path)
    assert done.status_code == 302 and done.headers["Location"] == "/me"
    assert signed_in(client)
    assert not signed_in(other.client)  # her other sessions ended
    # Once only.
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)

    fresh = AuthActions(app.test_client())
    assert fresh.login(email="bob@example.com").status_code == 400  # the old password
    assert fresh.login(email="bob@example.com", password=NEW_PASSWORD).status_code == 302


def test_a_member_who_joined_with_a_provider_sets_a_first_password(app, client, db,
                                                                    smtp_server):
    with db.system() as s:
        s.query("""CREATE user:ines SET email = 'ines@example.com', username = 'ines',
                       display_name = 'Inés', has_password = false;
                   CREATE profile SET owner = user:ines;""")
    link = reset_link(app, client, smtp_server, "ines@example.com")
    assert "set a first password" in text_of(smtp_server.inbox.to("ines@example.com")[-1])
    page = client.get(path_of(link)).get_data(as_text=True)
    assert "Set your first password" in page
    assert set_password(client, path_of(link)).status_code == 302
    with db.system() as s:
        assert s.value("RETURN user:ines.has_password") is True
    fresh = AuthActions(app.test_client())
    assert fresh.login(email="ines@example.com", password=NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("token", [
    "abc", "x" * 43 + "y", "../../etc/passwd", "%2e%2e%2f", "' OR true --", "ü" * 43,
    "a" * 500, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
])
def test_malformed_links_get_a_clear_page(client, token):
    for path in (f"/password/reset/{token}", f"/email/verify/{token}"):
        response = client.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)
        if response.status_code == 400:
            assert "This link" in response.get_data(as_text=True)


def test_forged_expired_and_superseded_links(app, client, make_user, smtp_server, monkeypatch):
    make_user("bob")
    forged = client.get("/password/reset/" + "A" * 43)
    assert forged.status_code == 400 and "not valid" in forged.get_data(as_text=True)
    assert set_password(client, "/password/reset/" + "A" * 43).status_code == 400

    monkeypatch.setitem(email_links._TTL, "reset", "1ms")
    expired = path_of(reset_link(app, client, smtp_server, "bob@example.com"))
    time.sleep(0.01)
    page = client.get(expired)
    assert page.status_code == 400 and "expired" in page.get_data(as_text=True)
    assert set_password(client, expired).status_code == 400
    monkeypatch.undo()

    first = path_of(reset_link(app, client, smtp_server, "bob@example.com"))
    second = path_of(reset_link(app, client, smtp_server, "bob@example.com"))
    assert "newer one was sent" in client.get(first).get_data(as_text=True)
    assert client.get(second).status_code == 200
    assert not signed_in(client)
    assert AuthActions(app.test_client()).login(email="bob@example.com").status_code == 302


def test_a_password_change_ends_reset_links(app, client, auth, smtp_server):
    auth.signup("alice")
    link = path_of(reset_link(app, app.test_client(), smtp_server, "alice@example.com"))
    changed = client.post("/me/settings/password", data={
        "pw-current_password": PASSWORD, "pw-new_password": NEW_PASSWORD,
        "csrf_token": csrf_token(client, "/me/settings")})
    assert changed.status_code == 302
    assert client.get(link).status_code == 400


def test_another_members_link_changes_nothing(app, client, auth, make_user, smtp_server):
    make_user("bob")
    link = path_of(reset_link(app, app.test_client(), smtp_server, "bob@example.com"))
    auth.signup("alice")
    page = client.get(link)
    assert page.status_code == 403 and "another account" in page.get_data(as_text=True)
    assert set_password(client, link).status_code == 403
    # Bob's password is unchanged and the link still works for him.
    assert AuthActions(app.test_client()).login(email="bob@example.com").status_code == 302
    assert app.test_client().get(link).status_code == 200


def test_forgot_is_rate_limited_per_address_and_per_ip(app, make_user):
    make_user("bob")
    client = app.test_client()
    by_address = [forgot(client, "bob@example.com", f"10.0.0.{i}").status_code
                  for i in range(4)]
    assert by_address == [200, 200, 200, 429]
    by_ip = [forgot(client, f"x{i}@example.com", "10.0.1.1").status_code for i in range(6)]
    assert by_ip == [200] * 5 + [429]
    # An unknown address is limited the same way (the limit says nothing about accounts).
    unknown = [forgot(client, "ghost@example.com", f"10.0.2.{i}").status_code
               for i in range(4)]
    assert unknown == [200, 200, 200, 429]


def test_a_bad_address_shows_the_form_again(client):
    response = forgot(client, "")
    assert response.status_code == 400 and "Enter your email." in response.get_data(
        as_text=True)


# -- verification -------------------------------------------------------------------------------

def verify_link(app, smtp_server, email: str) -> str:
    deliver(app)
    return path_of(link_in(smtp_server.inbox.to(email)[-1], "/email/verify/"))


def verified(db, username: str) -> bool:
    with db.system() as s:
        row = s.one("SELECT email, verified_email FROM user WHERE username = $u",
                    {"u": username})
    return row["verified_email"] == row["email"]


def test_sign_up_sends_a_verification_link(app, client, auth, db, smtp_server):
    assert auth.signup("alice").status_code == 302
    settings = client.get("/me/settings").get_data(as_text=True)
    assert "not confirmed yet" in settings and "Nothing in iDance waits for this" in settings
    link = verify_link(app, smtp_server, "alice@example.com")
    assert smtp_server.inbox.to("alice@example.com")[-1]["Subject"] == (
        "Confirm your email address for iDance")
    # Opening the link changes nothing (mail scanners open links); the button does.
    page = client.get(link)
    assert page.status_code == 200 and not verified(db, "alice")
    assert confirm(client, link).status_code == 302 and verified(db, "alice")
    assert "confirmed" in client.get("/me/settings").get_data(as_text=True)
    assert client.get(link).status_code == 400  # once only


def test_an_email_change_needs_verifying_again(app, client, auth, db, smtp_server):
    auth.signup("alice")
    confirm(client, verify_link(app, smtp_server, "alice@example.com"))
    assert verified(db, "alice")
    again = client.post("/me/settings/email/verify",
                        data={"csrf_token": csrf_token(client, "/me/settings")})
    assert again.status_code == 302 and deliver(app) == 0  # already confirmed: nothing sent
    changed = client.post("/me/settings/email", data={
        "em-email": "alice@dance.example", "em-password": PASSWORD,
        "csrf_token": csrf_token(client, "/me/settings")})
    assert changed.status_code == 302 and not verified(db, "alice")
    new_link = verify_link(app, smtp_server, "alice@dance.example")
    confirm(client, new_link)
    assert verified(db, "alice")


def test_a_link_for_an_address_no_longer_used_is_refused(app, client, auth, db, smtp_server):
    auth.signup("alice")
    link = verify_link(app, smtp_server, "alice@example.com")
    client.post("/me/settings/email", data={
        "em-email": "alice@dance.example", "em-password": PASSWORD,
        "csrf_token": csrf_token(client, "/me/settings")})
    page = client.get(link)
    assert page.status_code == 400 and "no longer uses" in page.get_data(as_text=True)
    assert not verified(db, "alice")


def test_verification_works_signed_out_but_not_as_another_member(app, client, auth, db,
                                                                  make_user, smtp_server):
    auth.signup("alice")
    link = verify_link(app, smtp_server, "alice@example.com")
    make_user("bob")
    bob = AuthActions(app.test_client())
    bob.login(email="bob@example.com")
    assert bob.client.get(link).status_code == 403
    visitor = app.test_client()
    done = confirm(visitor, link)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert verified(db, "alice")


def confirm(client, link: str):
    return client.post(link, data={"csrf_token": csrf_token(client, "/password/forgot")})
