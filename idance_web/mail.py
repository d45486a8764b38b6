"""Email: messages rendered from ``templates/email/``, sent by a background job.

A request never talks to a mail server: ``send`` renders the plain-text and HTML bodies and
queues a ``send_email`` job; the worker delivers it, retrying with back-off when the server is
slow or away. Delivery goes through SMTP when ``IDANCE_SMTP_URL`` is set:

- ``smtp://user:pass@host:587`` — STARTTLS, required (the default port is 587);
- ``smtp://host:25?starttls=0`` — no TLS (a relay on the same machine, a test server);
- ``smtps://user:pass@host:465`` — TLS from the first byte.

Without it (development), each message is written as a ``.eml`` file to ``IDANCE_MAIL_DIR``
(``instance/mail``) and logged as a warning; outside production the log line carries the text
body, so the links in it can be followed from the console.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import render_template, url_for

from .config import Config
from .db import Database
from .jobs import enqueue, handler
from .security import public_origin
from .services import email_links

log = logging.getLogger("idance.mail")

SUBJECTS = {
    "reset": "Set your iDance password",
    "verify": "Confirm your email address for iDance",
}
SMTP_TIMEOUT_S = 15


def send(db: Database, template: str, to: str, **context) -> None:
    """Render ``templates/email/<template>.txt`` and ``.html`` for ``to`` and queue them.

    Needs an app context (templates, links). Returns once the job is written.
    """
    payload = {
        "to": to,
        "subject": SUBJECTS[template],
        "text": render_template(f"email/{template}.txt", **context),
        "html": render_template(f"email/{template}.html", **context),
    }
    with db.worker() as s:
        enqueue(s, "send_email", payload)


def send_link(db: Database, purpose: str, to: str, token: str, **context) -> None:
    """Queue the email that carries a reset or verification link (an absolute URL)."""
    endpoint = {"reset": "password.reset", "verify": "password.verify"}[purpose]
    link = public_origin() + url_for(endpoint, token=token)
    send(db, purpose, to, link=link, expires=email_links.expires_text(purpose), **context)


def send_verification(db: Database, user_key: str, name: str) -> str | None:
    """Send her a link to confirm her current address; the address, or None if verified."""
    found = email_links.request_verification(db, user_key)
    if found is None:
        return None
    send_link(db, "verify", found["email"], found["token"], name=name)
    return found["email"]


def build_message(config: Config, payload: dict) -> EmailMessage:
    """The MIME message for a queued payload: text first, HTML as its alternative."""
    message = EmailMessage()
    sender = parseaddr(config.mail_from)
    message["From"] = formataddr(sender)
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender[1].rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    return message


def deliver(config: Config, message: EmailMessage) -> None:
    """Hand ``message`` to the configured SMTP server, or write it to the mail folder."""
    if config.smtp_url:
        _send_smtp(config.smtp_url, message)
    else:
        _write_file(config, message)


def _send_smtp(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    implicit_tls = parts.scheme == "smtps"
    starttls = not implicit_tls and options.get("starttls", ["1"])[0] not in ("0", "false", "no")
    port = parts.port or (465 if implicit_tls else 587)
    context = ssl.create_default_context()
    if implicit_tls:
        client = smtplib.SMTP_SSL(parts.hostname, port, timeout=SMTP_TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(parts.hostname, port, timeout=SMTP_TIMEOUT_S)
    with client:
        if starttls:
            client.starttls(context=context)  # refuses to go on without TLS
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
    log.info("email sent to %s: %s", message["To"], message["Subject"])


def _write_file(config: Config, message: EmailMessage) -> None:
    folder = Path(config.mail_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{make_msgid().strip('<>').split('@')[0]}.eml"
    path = folder / name
    path.write_bytes(bytes(message))
    # A warning, so that it shows without any logging set up: nothing was sent.
    if config.is_production:
        log.warning("no IDANCE_SMTP_URL: email to %s written to %s", message["To"], path)
    else:
        body = message.get_body(("plain",))
        log.warning("email to %s (not sent: no IDANCE_SMTP_URL): %s (%s)\n%s", message["To"],
                    message["Subject"], path, body.get_content() if body else "")


@handler("send_email")
def send_email_job(db: Database, payload: dict) -> None:
    """Deliver one queued message (a failure raises, and the job is retried)."""
    deliver(db.config, build_message(db.config, payload))
