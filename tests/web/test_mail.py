"""The mail sender: its settings, the development folder, and a server that is away."""

from __future__ import annotations

import pytest

from idance_web import mail
from idance_web.config import ConfigError, from_env
from tests.fixtures.app import make_config
from tests.fixtures.auth import csrf_token
from tests.fixtures.mail import SmtpServer, free_port, text_of

PAYLOAD = {"to": "lena@example.com", "subject": "Hello", "text": "Plain — ünïcode",
           "html": "<p>Rich</p>"}


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "smtp://host:port",
                                 "mail.example:25"])
def test_a_bad_smtp_url_is_refused_at_start(url):
    with pytest.raises(ConfigError, match="IDANCE_SMTP_URL"):
        from_env({"IDANCE_SMTP_URL": url}).validate()


@pytest.mark.parametrize("url", ["", "smtp://u:p@mail.example:587", "smtps://mail.example",
                                 "smtp://127.0.0.1:25?starttls=0"])
def test_good_smtp_urls_are_accepted(url):
    assert from_env({"IDANCE_SMTP_URL": url}).validate().smtp_url == url


def test_without_smtp_messages_go_to_the_mail_folder(tmp_path, caplog):
    config = make_config(mail_dir=str(tmp_path / "mail"))
    mail.deliver(config, mail.build_message(config, PAYLOAD))
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    written = files[0].read_text()
    assert "To: lena@example.com" in written and "Subject: Hello" in written
    assert "Plain — ünïcode" in caplog.text  # development shows the body (and its links)


def test_a_message_has_both_bodies_and_the_sender():
    with SmtpServer() as server:
        config = make_config(smtp_url=server.url, mail_from="iDance <hello@idance.test>")
        mail.deliver(config, mail.build_message(config, PAYLOAD))
        message = server.inbox.messages[0]
    assert message["From"] == "iDance <hello@idance.test>"
    assert message["Message-ID"].endswith("@idance.test>")
    assert text_of(message).strip() == "Plain — ünïcode"
    assert message.get_body(("html",)).get_content().strip() == "<p>Rich</p>"


def test_starttls_is_required_unless_turned_off():
    with SmtpServer() as server:  # offers no STARTTLS
        config = make_config(smtp_url=server.url.replace("?starttls=0", ""))
        with pytest.raises(Exception, match="(?i)starttls"):
            mail.deliver(config, mail.build_message(config, PAYLOAD))
        assert server.inbox.messages == []


@pytest.fixture
def config():
    # A server that is away: nothing listens on this port.
    return make_config(smtp_url=f"smtp://127.0.0.1:{free_port()}?starttls=0")


def test_a_server_that_is_away_neither_blocks_the_page_nor_loses_the_email(app, client,
                                                                            make_user):
    make_user("bob")
    response = client.post("/password/forgot", data={
        "email": "bob@example.com", "csrf_token": csrf_token(client, "/password/forgot")})
    assert response.status_code == 200
    outcomes = [o for o in app.extensions["idance.worker"].run_due() if o.kind == "send_email"]
    assert [o.state for o in outcomes] == ["queued"]  # to be retried with back-off
    assert "ConnectionRefusedError" in outcomes[0].error
