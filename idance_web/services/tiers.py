"""Tiers: free, pro and VIP. Changed by the worker identity alone (no payment integration)."""

from __future__ import annotations

from ..db import Database

TIERS = ("free", "pro", "vip")


def set_tier(db: Database, username: str, tier: str) -> None:
    """Set ``username``'s tier; ``LookupError`` when no such member exists."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}")
    with db.worker() as s:
        changed = s.value("UPDATE user SET tier = $tier WHERE username = $name RETURN VALUE id",
                          {"tier": tier, "name": (username or "").strip().lower()})
    if not changed:
        raise LookupError(f"no member named {username!r}")
