"""Configuration: development defaults, overlaid by ``IDANCE_*`` environment variables.

Production (``IDANCE_ENV=production``) refuses to start while a development secret is in place.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from urllib.parse import urlsplit

DEV_SECRET_KEY = "dev-secret-key-change-me-0123456789abcdef"
DEV_DB_JWT_KEY = "dev-db-jwt-key-change-me-0123456789abcdef"

# A key ends up as a string literal inside `DEFINE ACCESS … KEY '…'` (the statement takes no
# parameters), so it may only hold characters that cannot close the literal.
JWT_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-+/=.~]{32,512}$")

DATABASE_BY_ENV = {"development": "dev", "test": "test", "production": "prod"}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which setting and why."""


@dataclass(frozen=True)
class Config:
    """Every setting the app reads. Field names map to ``IDANCE_<NAME>`` variables."""

    env: str = "development"
    secret_key: str = DEV_SECRET_KEY
    db_url: str = "surrealkv://instance/idance.db"
    db_namespace: str = "idance"
    db_database: str = ""  # empty: chosen by env (dev / test / prod)
    db_user: str = ""
    db_pass: str = ""
    db_jwt_key: str = DEV_DB_JWT_KEY
    db_token_seconds: int = 60
    db_pool: int = 16  # connections a process keeps to a SurrealDB server (db_pool.py)
    db_sync: bool = True  # embedded file engines fsync every commit (SURREAL_SYNC_DATA)
    # Values the embedded file engine keeps in memory (SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE);
    # left to the engine, the cache grows with every value written (docs/architecture.md).
    db_value_cache: int = 100_000
    backup_dir: str = ""  # a daily backup is written here (empty: none), by the worker
    backup_keep: int = 7  # backups kept in backup_dir
    backup_hour: int = 3  # the hour (UTC) of the daily backup
    media_root: str = "instance/media"
    max_image_bytes: int = 10 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024  # a video upload's body; refused before it is read
    max_video_seconds: int = 600
    image_decoders: int = 2  # images decoded at once, each on its own thread (up to ~180 MB each)
    # What one member may store in all: a year of weekly vlogs (docs/architecture.md).
    media_quota_bytes: int = 5 * 1024 * 1024 * 1024
    media_backend: str = "local"  # local | s3 (any S3-compatible store, e.g. Cloudflare R2)
    media_url: str = "/media/"  # where the app serves local media
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # R2: https://<account>.r2.cloudflarestorage.com
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_public_url: str = ""  # a public bucket URL; empty: the app serves the objects itself
    s3_region: str = "auto"
    auto_migrate: bool = True  # development applies pending migrations before serving
    public_url: str = ""  # e.g. https://idance.example; OAuth redirect URIs are built from it
    trusted_proxies: int = 0  # proxies in front whose X-Forwarded-For/-Proto are believed
    rate_limits: bool = True
    # Where rate-limit counters live: memory:// counts per process and forgets on restart;
    # several processes need one shared store (redis://host:6379/0).
    rate_limit_storage: str = "memory://"
    # Addresses (comma-separated, CIDR allowed) that may read /metrics; others get 403.
    metrics_allow: str = "127.0.0.0/8,::1"
    daily_likes: int = 50  # likes a free member may give a day
    chat_messages_per_minute: int = 30  # messages one member may send a minute
    follow_changes: bool = True  # the serving process runs the hub's thread (tests poll by hand)
    # Live streams (/events): each holds a server thread, so the process has this many threads
    # for them beside page_threads for everything else (gunicorn.conf.py adds them up).
    max_streams: int = 256
    streams_per_member: int = 5
    page_threads: int = 16
    stream_heartbeat: int = 15  # seconds between comments on a quiet stream
    smtp_url: str = ""  # smtp://user:pass@host:587 (STARTTLS), smtps://…:465; empty: mail_dir
    mail_from: str = "iDance <no-reply@localhost>"
    mail_dir: str = "instance/mail"  # where messages are written when no SMTP server is set
    # Web Push (VAPID, RFC 8292): `idance vapid-keys` prints a pair; without keys push is off.
    vapid_public_key: str = ""
    vapid_private_key: str = ""
    vapid_subject: str = ""  # mailto: or https: contact the push services may use
    google_client_id: str = ""
    google_client_secret: str = ""
    facebook_client_id: str = ""
    facebook_client_secret: str = ""
    apple_client_id: str = ""
    apple_team_id: str = ""
    apple_key_id: str = ""
    apple_private_key: str = ""
    # Provider endpoints: the real ones by default; tests point them at a local provider.
    google_metadata_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    facebook_authorize_url: str = "https://www.facebook.com/v22.0/dialog/oauth"
    facebook_token_url: str = "https://graph.facebook.com/v22.0/oauth/access_token"
    facebook_graph_url: str = "https://graph.facebook.com/v22.0"
    apple_metadata_url: str = "https://appleid.apple.com/.well-known/openid-configuration"
    apple_audience: str = "https://appleid.apple.com"  # the `aud` of the Apple client secret
    extra: dict = field(default_factory=dict)  # test hooks and provider overrides

    @property
    def database(self) -> str:
        return self.db_database or DATABASE_BY_ENV.get(self.env, self.env)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def with_overrides(self, **changes) -> "Config":
        """A copy with some settings changed (used by tests and the CLI)."""
        return replace(self, **changes)

    def validate(self) -> "Config":
        """Refuse settings that cannot work; in production refuse development secrets."""
        if self.env not in DATABASE_BY_ENV:
            raise ConfigError(f"IDANCE_ENV must be one of {', '.join(DATABASE_BY_ENV)}")
        if not JWT_KEY_PATTERN.match(self.db_jwt_key):
            raise ConfigError(
                "IDANCE_DB_JWT_KEY must be 32-512 characters of letters, digits and _-+/=.~"
            )
        if self.max_video_bytes < 1 or self.max_video_seconds < 1:
            raise ConfigError("IDANCE_MAX_VIDEO_BYTES and IDANCE_MAX_VIDEO_SECONDS must be 1 "
                              "or more")
        if self.image_decoders < 1:
            raise ConfigError("IDANCE_IMAGE_DECODERS must be 1 or more")
        if self.db_pool < 1:
            raise ConfigError("IDANCE_DB_POOL must be 1 or more (connections to the server)")
        if self.db_value_cache < 1:
            raise ConfigError("IDANCE_DB_VALUE_CACHE must be 1 or more (values kept in memory)")
        if min(self.max_streams, self.streams_per_member, self.page_threads) < 1:
            raise ConfigError("IDANCE_MAX_STREAMS, IDANCE_STREAMS_PER_MEMBER and "
                              "IDANCE_PAGE_THREADS must be 1 or more")
        _check_smtp_url(self.smtp_url)
        if bool(self.vapid_public_key) != bool(self.vapid_private_key):
            raise ConfigError("IDANCE_VAPID_PUBLIC_KEY and IDANCE_VAPID_PRIVATE_KEY go together "
                              "(`idance vapid-keys` prints a pair)")
        if self.vapid_public_key and not self.vapid_subject.startswith(("mailto:", "https://")):
            raise ConfigError("IDANCE_VAPID_SUBJECT must be a mailto: or https:// contact "
                              "when push is configured")
        if self.is_production:
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise ConfigError("IDANCE_SECRET_KEY must be set to a secret of 32+ characters")
            if self.db_jwt_key == DEV_DB_JWT_KEY:
                raise ConfigError("IDANCE_DB_JWT_KEY must be set to a secret key in production")
            if not self.public_url.startswith("https://"):
                # Links, canonical URLs and OAuth redirects are built from it, never from
                # request headers a client controls.
                raise ConfigError("IDANCE_PUBLIC_URL must be set to the https:// address")
            if self.auto_migrate:
                object.__setattr__(self, "auto_migrate", False)
        if "://" not in self.rate_limit_storage:
            raise ConfigError("IDANCE_RATE_LIMIT_STORAGE must be a storage URI such as "
                              "memory:// or redis://host:6379/0")
        metrics_networks(self.metrics_allow)
        return self


def _check_smtp_url(url: str) -> None:
    """Refuse an ``IDANCE_SMTP_URL`` that is set but not ``smtp://`` or ``smtps://``."""
    if not url:
        return
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ConfigError("IDANCE_SMTP_URL has a port that is not a number") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("IDANCE_SMTP_URL must look like smtp://user:pass@host:587 or "
                          "smtps://user:pass@host:465")


def _coerce(raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def from_env(environ: dict | None = None, base: Config | None = None) -> Config:
    """Build a Config from ``IDANCE_*`` variables over the defaults (or over ``base``)."""
    environ = os.environ if environ is None else environ
    base = base or Config()
    changes = {}
    for f in fields(Config):
        if f.name == "extra":
            continue
        key = "IDANCE_" + f.name.upper()
        if key in environ:
            changes[f.name] = _coerce(environ[key], getattr(base, f.name))
    env = changes.get("env", base.env)
    if env == "production" and "auto_migrate" not in changes:
        changes["auto_migrate"] = False
    return replace(base, **changes)


def metrics_networks(text: str) -> tuple:
    """The networks of ``IDANCE_METRICS_ALLOW``; ConfigError naming a malformed entry."""
    import ipaddress

    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"IDANCE_METRICS_ALLOW: {item!r} is not an address or network") from None
    return tuple(networks)
