"""Which entry of the navigation the current page belongs to.

The header marks that entry with ``aria-current="page"``; sub-pages count (a conversation marks
Chat, a group's site editor marks Groups). Decided here once, from the endpoint, so no template
says which section it is in.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request

# Endpoints whose section is not their blueprint's.
ENDPOINT_SECTIONS = {
    "pages.home": "home",
    "account.show": "profile",
    "discover.matches": "matches",
    "discover.unmatch": "matches",
    "discover.blocked": "settings",
    "discover.unblock": "settings",
    "discover.member": None,  # a dancer's page, reached from anywhere
    "notifications.preferences": "settings",
    "notifications.device_add": "settings",
    "notifications.device_delete": "settings",
    "notifications.device_remove": "settings",
    "auth.login": "sign-in",
    "auth.signup": "join",
}
BLUEPRINT_SECTIONS = {
    "discover": "discover",
    "chat": "chat",
    "vlogs": "vlogs",
    "vlog_actions": "vlogs",
    "groups": "groups",
    "group_site": "groups",  # a group's site editor belongs to the group
    "notifications": "notifications",
    "profile": "profile",
    "site": "site",
    "account": "settings",
}
# Her menu's entries: the menu's button is marked too when one of them is current.
ACCOUNT_SECTIONS = frozenset({"profile", "site", "settings"})


def section_for(endpoint: str | None) -> str | None:
    """The navigation entry an endpoint belongs to (None: no entry is current)."""
    if not endpoint:
        return None
    if endpoint in ENDPOINT_SECTIONS:
        return ENDPOINT_SECTIONS[endpoint]
    return BLUEPRINT_SECTIONS.get(endpoint.partition(".")[0])


def init_app(app: Flask) -> None:
    """Give every template ``nav_section`` and ``nav_in_account_menu``."""

    @app.context_processor
    def navigation() -> dict:
        section = section_for(request.endpoint) if has_request_context() else None
        return {"nav_section": section, "nav_in_account_menu": section in ACCOUNT_SECTIONS}
