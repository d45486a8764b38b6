"""``idance demo``: a believable demo community, loaded idempotently (never in production).

Members (``members.py``), their published sites (``sites.py``), groups (``groups.py``), likes
and matches (``discovery.py``), conversations (``chats.py``), vlogs (``vlogs.py``), the first
member's follows of vlog authors (``feed.py``) and her notifications (``notifications.py``).
Every demo member signs in with her email and ``DEMO_PASSWORD``. Each part checks its own
marker, so a second run changes nothing and a part added later still loads on an old demo.
"""

from __future__ import annotations

from ..config import Config
from ..db import Database
from ..storage import storage_from_config
from .chats import load_demo_chats
from .discovery import load_demo_discovery
from .feed import load_demo_feed
from .groups import load_demo_groups
from .members import DEMO_PASSWORD, DemoRefused, load_demo_members
from .notifications import load_demo_notifications
from .sites import load_demo_sites
from .vlogs import load_demo_vlogs

__all__ = ["DEMO_PASSWORD", "DemoRefused", "load_demo"]


def load_demo(db: Database, config: Config) -> str:
    """Load the demo community; return a one-line summary. Refused in production."""
    if config.is_production:
        raise DemoRefused("the demo community is never loaded in production")
    loaded, members = load_demo_members(db)
    storage = storage_from_config(config)
    parts = [loaded, load_demo_sites(db, storage), load_demo_groups(db),
             load_demo_discovery(db, [m["key"] for m in members]), load_demo_chats(db),
             load_demo_vlogs(db, storage), load_demo_feed(db)]
    # After every part whose events notify her (matches, follows, groups; chats and vlogs).
    parts.append(load_demo_notifications(db))
    parts.append(f"Sign in as {members[0]['email']} with password {DEMO_PASSWORD}.")
    return " ".join(parts)
