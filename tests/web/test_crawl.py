"""Crawl the demo community as a visitor, a member and a group owner: nothing answers 5xx.

From ``/``, ``/me``, ``/me/site``, a group's manage page and the set-up's first step, every
same-origin link, redirect and GET form (with its defaults, and with each option of its selects)
is followed breadth-first; pictures and static files are HEAD-checked. Security checklist
item 45.
"""

from __future__ import annotations

import pytest

from tests.web.crawler import crawl, demo_app, report, signed_in

GROUP = "sol-salsa-studio"
MEMBER = "ana-dubois@demo.idance.example"  # an admin of Tango del Puerto
OWNER = "lucia-ivanova@demo.idance.example"  # owns Sol Salsa Studio
STARTS = ["/", "/me", "/me/site", f"/g/{GROUP}/manage", "/me/welcome/city"]

# What each crawl must reach, so a crawler that stops early cannot pass.
REACHED = {
    "visitor": {"pages.home", "groups.index", "groups.show", "public.dancer", "public.group",
                "public.schedule", "auth.login", "auth.signup", "media.show"},
    "member": {"account.show", "account.settings", "profile.edit", "site.edit",
               "site.block_new", "site.block_edit", "site.preview", "public.dancer",
               "onboarding.city", "onboarding.styles", "onboarding.picture", "onboarding.site"},
    "owner": {"groups.manage", "groups.details", "group_site.edit", "group_site.block_new",
              "group_site.block_edit", "group_site.preview", "site.block_edit"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with demo_app(tmp_path_factory) as app:
        yield app


@pytest.mark.parametrize("role, email", [("visitor", None), ("member", MEMBER),
                                         ("owner", OWNER)])
def test_no_reachable_page_answers_5xx(demo, role, email):
    seen = crawl(demo, signed_in(demo, email), STARTS)
    assert not seen.failures, report(seen.failures)
    missing = REACHED[role] - set(seen.endpoints)
    assert not missing, f"the crawl never reached {sorted(missing)}"
    assert len(seen.statuses) > 100
