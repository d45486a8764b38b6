"""Sign-up, sign-in, sessions and their protections, through the real pages."""

from __future__ import annotations

import statistics
import time

import pytest

from idance_web.services import accounts
from tests.fixtures.auth import PASSWORD, AuthActions, csrf_token, member_id


def signed_in_as(client) -> str | None:
    response = client.get("/me")
    if response.status_code != 200:
        return None
    import re

    found = re.search(r'<p class="muted">@([a-z0-9_-]+)</p>', response.get_data(as_text=True))
    return found.group(1) if found else None


def test_signup_signs_in_and_creates_a_profile(auth, client, db):
    response = auth.signup("alice")
    assert response.status_code == 302 and response.headers["Location"] == "/me/welcome"
    assert signed_in_as(client) == "alice"
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM profile WHERE owner.username = 'alice')") == 1
        stored = s.value("SELECT VALUE password FROM ONLY user WHERE username = 'alice' LIMIT 1")
    assert stored.startswith("$argon2") and PASSWORD not in stored


@pytest.mark.parametrize("field, value, message", [
    ("email", "not-an-email", "Enter a valid email address."),
    ("username", "Al", "Use 3–30 lowercase letters"),
    ("username", "admin", "That username is reserved"),
    ("username", "me", "Use 3–30"),
    ("username", "bad name!", "Use 3–30"),
    ("password", "short", "Use at least 10 characters."),
    ("display_name", "", "Enter your name."),
])
def test_signup_errors_show_next_to_the_field_with_input_kept(auth, field, value, message):
    values = {"username": "alice", "email": "alice@example.com", "display_name": "Alice Keep",
              "password": "a-secret-password-1"}
    values[field] = value
    response = auth.signup(**values)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert f'id="{field}-error"' in html
    assert "Alice Keep" in html or field == "display_name"
    assert "a-secret-password-1" not in html


def test_duplicate_email_and_username_are_clear_messages(auth, client):
    auth.signup("alice")
    other = AuthActions(client.application.test_client())
    html = other.signup("alice", email="ALICE@Example.com").get_data(as_text=True)
    assert "An account with this email already exists" in html
    assert "That username is taken" in html


def test_login_and_the_same_answer_for_a_wrong_email_or_password(auth, client, make_user):
    make_user("bob")
    wrong_pw = auth.login("bob@example.com", "wrong password 1")
    no_user = auth.login("nobody@example.com", "wrong password 1")
    for response in (wrong_pw, no_user):
        assert response.status_code == 400
        assert "Wrong email or password." in response.get_data(as_text=True)
    assert auth.login("BOB@example.com", PASSWORD).status_code == 302
    assert signed_in_as(client) == "bob"


def test_sign_in_takes_as_long_for_a_missing_account(db, make_user):
    """Sign-in compares against a fixed hash, so timing reveals no accounts.

    Measured as this process's CPU time (the engine's threads included), taken in turns: the
    work is what differs or not, and other processes on the machine do not disturb it.
    """
    make_user("bob")
    samples = {"bob@example.com": [], "ghost@example.com": []}
    for turn in range(8):
        for email in samples:
            start = time.process_time()
            with pytest.raises(accounts.InvalidCredentials):
                accounts.sign_in(db, email, "wrong password 1")
            if turn:  # the first turn warms up
                samples[email].append(time.process_time() - start)
    existing, missing = (statistics.median(v) for v in samples.values())
    assert 0.5 < missing / existing < 2.0, (existing, missing)


def test_password_sign_in_never_opens_an_account_without_a_password(db, make_user, monkeypatch):
    """An unknown email or a provider-only account is compared against a fixed hash; even a
    person who knew its password gets into nothing (simulated with a hash of a known one)."""
    make_user("withpw")
    with db.system() as s:
        s.query("CREATE user:oauthonly SET email = 'only@example.com', username = 'only',"
                " display_name = 'Only'")
        known = s.value("RETURN crypto::argon2::generate('the-dummy-secret')")
    monkeypatch.setattr(accounts, "_ABSENT_HASH", known)
    for email in ("only@example.com", "nobody@example.com"):
        with pytest.raises(accounts.InvalidCredentials):
            accounts.sign_in(db, email, "the-dummy-secret")
    assert accounts.sign_in(db, "withpw@example.com", PASSWORD).username == "withpw"


def test_the_fixed_hash_is_the_one_the_database_access_uses():
    from idance_web.migrate import discover

    access = next(m for m in discover() if m.name == "0001_authentication")
    assert f"$found.password ?? '{accounts._ABSENT_HASH}'" in access.text


def test_one_password_hash_at_a_time(db, make_user, monkeypatch):
    """Sign-ins queue for the hash, so one core keeps serving pages."""
    import threading

    from argon2 import PasswordHasher

    make_user("bob")
    lock, inside, most = threading.Lock(), [0], [0]

    class Counting(PasswordHasher):
        def verify(self, *args):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            try:
                return super().verify(*args)
            finally:
                with lock:
                    inside[0] -= 1

    monkeypatch.setattr(accounts, "_HASHER", Counting())
    threads = [threading.Thread(target=accounts.sign_in, args=(db, "bob@example.com", PASSWORD))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1


@pytest.mark.parametrize("target", ["//evil.com", "/\\evil.com", "https:evil.com",
                                    "%2F%2Fevil.com", "javascript:alert(1)",
                                    "/%0d%0aSet-Cookie:x"])
def test_next_never_leaves_the_site(auth, make_user, target):
    make_user("bob")
    response = auth.login("bob@example.com", next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_to_a_local_page(auth, make_user):
    make_user("bob")
    assert auth.login("bob@example.com", next="/me/settings").headers["Location"] == "/me/settings"


def test_post_without_csrf_token_is_refused(client, make_user):
    make_user("bob")
    response = client.post("/login", data={"email": "bob@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert signed_in_as(client) is None
    assert client.post("/logout").status_code == 400


def test_cookie_from_before_sign_in_is_not_signed_in(app, auth, client, make_user):
    make_user("bob")
    client.get("/login")
    before = client.get_cookie("session")
    auth.login("bob@example.com")
    after = client.get_cookie("session")
    assert before is None or before.value != after.value
    fresh = app.test_client()
    if before is not None:
        fresh.set_cookie("session", before.value)
    assert signed_in_as(fresh) is None


def test_logout_ends_this_session_and_a_replayed_cookie(app, auth, client, make_user):
    make_user("bob")
    auth.login("bob@example.com")
    stolen = client.get_cookie("session").value
    assert auth.logout().status_code == 302
    assert signed_in_as(client) is None
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert signed_in_as(replay) is None


def test_session_cookie_flags(auth, client, make_user):
    make_user("bob")
    response = auth.login("bob@example.com")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_change_ends_every_other_session(app, make_user):
    make_user("bob")
    here, there = AuthActions(app.test_client()), AuthActions(app.test_client())
    here.login("bob@example.com")
    there.login("bob@example.com")
    token = csrf_token(here.client, "/me/settings")
    response = here.client.post("/me/settings/password", data={
        "csrf_token": token, "pw-current_password": PASSWORD,
        "pw-new_password": "a brand new password"})
    assert response.status_code == 302
    assert signed_in_as(here.client) == "bob"
    assert signed_in_as(there.client) is None
    assert AuthActions(app.test_client()).login("bob@example.com").status_code == 400
    assert AuthActions(app.test_client()).login(
        "bob@example.com", "a brand new password").status_code == 302


def test_password_change_with_a_wrong_current_password(auth, client, make_user):
    make_user("bob")
    auth.login("bob@example.com")
    response = client.post("/me/settings/password", data={
        "csrf_token": csrf_token(client, "/me/settings"), "pw-current_password": "nope nope nope",
        "pw-new_password": "a brand new password"})
    assert response.status_code == 400
    assert "That is not your current password." in response.get_data(as_text=True)


def test_email_change_keeps_input_on_error_and_refuses_a_taken_email(auth, client, make_user):
    make_user("bob")
    make_user("carol")
    auth.login("bob@example.com")
    token = csrf_token(client, "/me/settings")
    taken = client.post("/me/settings/email", data={
        "csrf_token": token, "em-email": "carol@example.com", "em-password": PASSWORD})
    assert "Another account uses this email." in taken.get_data(as_text=True)
    assert 'value="carol@example.com"' in taken.get_data(as_text=True)
    ok = client.post("/me/settings/email", data={
        "csrf_token": token, "em-email": "Bob.New@Example.com", "em-password": PASSWORD})
    assert ok.status_code == 302
    assert AuthActions(client.application.test_client()).login(
        "bob.new@example.com").status_code == 302


def test_delete_account_signs_out_everywhere_and_hides_her(app, db, make_user):
    make_user("bob")
    here, there = AuthActions(app.test_client()), AuthActions(app.test_client())
    here.login("bob@example.com")
    there.login("bob@example.com")
    token = csrf_token(here.client, "/me/settings")
    refused = here.client.post("/me/settings/delete", data={
        "csrf_token": token, "del-confirm": "someone-else", "del-password": PASSWORD,
        "del-really": "y"})
    assert refused.status_code == 400 and signed_in_as(here.client) == "bob"
    response = here.client.post("/me/settings/delete", data={
        "csrf_token": token, "del-confirm": "bob", "del-password": PASSWORD, "del-really": "y"})
    assert response.status_code == 302
    assert signed_in_as(here.client) is None and signed_in_as(there.client) is None
    assert AuthActions(app.test_client()).login("bob@example.com").status_code == 400
    with db.visitor() as s:
        assert s.rows("SELECT id FROM user WHERE username = 'bob'") == []
        assert s.rows("SELECT id FROM profile WHERE owner = user:bob") == []
    with db.system() as s:
        assert "user.delete" in s.value("SELECT VALUE action FROM audit_log WHERE subject = user:bob")


def test_export_holds_what_she_owns_and_no_password(auth, client, make_user):
    make_user("bob")
    auth.login("bob@example.com")
    response = client.get("/me/settings/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_json(force=True)
    assert data["account"]["username"] == "bob" and data["account"]["email"] == "bob@example.com"
    assert len(data["profile"]) == 1
    assert "password" not in response.get_data(as_text=True)


def test_login_rate_limit_per_ip_with_retry_after(auth, client, make_user):
    make_user("bob")
    token = csrf_token(client, "/login")
    statuses = []
    for i in range(22):
        response = client.post("/login", data={"email": f"x{i}@example.com",
                                               "password": "wrong password", "csrf_token": token},
                               headers={"X-Forwarded-For": f"10.0.0.{i}"})
        statuses.append(response.status_code)
    assert statuses[:20] == [400] * 20
    assert statuses[-1] == 429
    assert int(response.headers["Retry-After"]) > 0


def test_login_rate_limit_per_account_across_addresses(app, make_user):
    make_user("bob")
    client = app.test_client()
    token = csrf_token(client, "/login")
    statuses = []
    for i in range(21):
        response = client.post("/login", data={"email": "bob@example.com",
                                               "password": "wrong password", "csrf_token": token},
                               environ_base={"REMOTE_ADDR": f"127.0.0.{i + 2}"})
        statuses.append(response.status_code)
    assert statuses[-1] == 429


def test_signup_rate_limit_per_ip(auth):
    statuses = [auth.signup(f"user{i:02d}", password="x").status_code for i in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429


@pytest.mark.parametrize("path", ["/me", "/me/settings", "/me/settings/export"])
def test_member_pages_send_visitors_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_sessions_record_their_use_and_end_after_idle_days(app, auth, client, db, make_user):
    make_user("bob")
    auth.login("bob@example.com")
    with db.system() as s:
        s.query("UPDATE user_session SET last_seen_at = time::now() - 1h")
    assert signed_in_as(client) == "bob"
    with db.system() as s:
        seen = s.value("SELECT VALUE last_seen_at FROM user_session")[0]
        fresh = s.value("RETURN $seen > time::now() - 1m", {"seen": seen})
        s.query("UPDATE user_session SET last_seen_at = time::now() - 15d")
    assert fresh is True
    assert signed_in_as(client) is None


def test_export_holds_her_site_and_its_blocks(app, auth, client):
    from tests.fixtures.sites import Editor

    auth.signup("bob")
    editor = Editor(client)
    editor.post("/create")
    editor.add("text", body="My first class")
    data = client.get("/me/settings/export").get_json(force=True)
    assert len(data["sites"]) == 1
    assert [b["data"]["body"] for b in data["content_blocks"]] == ["My first class"]
    assert data["content_blocks"][0]["site"] == data["sites"][0]["id"]


def test_a_deleted_account_erases_her_personal_data_and_frees_her_email(app, auth, client, db):
    from tests.fixtures.sites import Editor

    auth.signup("bob", display_name="Bob Marley")
    editor = Editor(client)
    editor.post("/create")
    editor.add("text", body="Call me on 0123")
    bob = member_id(db, "bob")
    with db.system() as s:
        s.query("UPDATE profile SET bio = 'I live at 1 Main St', height_cm = 180 "
                "WHERE owner = $me", {"me": bob})
    token = csrf_token(client, "/me/settings")
    assert client.post("/me/settings/delete", data={
        "csrf_token": token, "del-confirm": "bob", "del-password": PASSWORD,
        "del-really": "y"}).status_code == 302
    with db.system() as s:
        user = s.one("SELECT * FROM ONLY $me", {"me": bob})
        profile = s.one("SELECT * FROM ONLY profile WHERE owner = $me LIMIT 1", {"me": bob})
        blocks = s.value("SELECT VALUE data FROM content_block WHERE site IN "
                         "(SELECT VALUE id FROM site WHERE owner = $me)", {"me": bob})
        agents = s.value("SELECT VALUE user_agent FROM user_session WHERE user = $me",
                         {"me": bob})
    text = repr((user, profile, blocks))
    assert "bob" not in text.replace(repr(bob), "").lower()
    assert "Main St" not in text and "0123" not in text and profile.get("height_cm") is None
    assert user["deleted_at"] is not None and user.get("password") is None
    assert set(agents) == {""}
    # The address is free again: a new account may use it.
    fresh = AuthActions(app.test_client())
    assert fresh.signup("bobby", email="bob@example.com").status_code == 302


@pytest.mark.parametrize("path", ["/login", "/signup", "/me/settings"])
def test_inputs_carry_no_empty_aria_attributes(auth, client, path):
    if path.startswith("/me"):
        auth.signup("bob")
    html = client.get(path).get_data(as_text=True)
    assert "<input" in html
    assert '"None"' not in html
    assert "aria-describedby" not in html or 'aria-describedby=""' not in html


def test_a_refused_field_is_described_by_its_error(client):
    token = csrf_token(client, "/login")
    html = client.post("/login", data={"email": "", "password": "", "csrf_token": token}
                       ).get_data(as_text=True)
    assert 'aria-invalid="true"' in html and 'aria-describedby="email-error"' in html
    assert '"None"' not in html
