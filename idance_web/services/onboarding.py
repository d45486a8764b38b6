"""The guided set-up after sign-up: which step she is at, and moving on.

Four steps, in order: her city, her dance styles with level and role, a picture, then her site
from a starter layout (``services/starter_sites.py``). What she enters is kept where the
profile editor and the site editor keep it; ``user.onboarding`` (migration ``0023``) holds only
the step she resumes at, NONE once she is done and for members who joined before it.
"""

from __future__ import annotations

from surrealdb import RecordID

from ..db import Database

STEPS = ("city", "styles", "picture", "site")
LABELS = {"city": "Your city", "styles": "Your dance styles", "picture": "Your picture",
          "site": "Your site"}


def begin(db: Database, user_key: str) -> None:
    """Start her set-up at the first step (called once, for a new account)."""
    with db.member(user_key) as s:
        s.query("UPDATE $me SET onboarding = $step RETURN NONE",
                {"me": RecordID("user", user_key), "step": STEPS[0]})


def step_done(db: Database, user_key: str, step: str) -> str | None:
    """Record that she saved or skipped ``step``; return the step after it (None after the
    last one, when her set-up is over).

    Her place only moves forward: changing an earlier step again keeps where she got to, and
    a finished set-up stays finished.
    """
    index = STEPS.index(step)
    following = STEPS[index + 1] if index + 1 < len(STEPS) else None
    with db.member(user_key) as s:
        s.query("UPDATE $me SET onboarding = $next WHERE onboarding IN $reached RETURN NONE",
                {"me": RecordID("user", user_key), "next": following,
                 "reached": list(STEPS[: index + 1])})
    return following


def finish(db: Database, user_key: str) -> None:
    """End her set-up wherever it stands (she chose not to finish it)."""
    with db.member(user_key) as s:
        s.query("UPDATE $me SET onboarding = NONE RETURN NONE",
                {"me": RecordID("user", user_key)})
