"""Discovery and matching through the pages, on the real engine with its permissions."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.auth import csrf_token
from tests.fixtures.dancers import BARCELONA, PARIS


def names(html: str) -> list[str]:
    return re.findall(r'data-username="([^"]+)"', html)


def swipe(client, username, direction="like", **kw):
    token = csrf_token(client, "/discover")
    return client.post(f"/u/{username}/swipe", data={"csrf_token": token, "direction": direction},
                       **kw)


def test_two_dancers_in_one_city_find_like_and_match(dancer, db):
    ana, ben = dancer("ana"), dancer("ben")
    dancer("far", city=BARCELONA)
    html = ana.get("/discover").get_data(as_text=True)
    assert names(html) == ["ben"]
    assert "Berlin" in html and "&lt; 1 km" in html
    assert swipe(ana, "ben").status_code == 303
    assert names(ana.get("/discover").get_data(as_text=True)) == []  # liked: not shown again
    assert "ana" in names(ben.get("/discover").get_data(as_text=True))
    response = swipe(ben, "ana")
    assert response.headers["Location"] == "/matches"
    for client, other in ((ana, "Ben"), (ben, "Ana")):
        assert other in client.get("/matches").get_data(as_text=True)
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM match)") == 1
        assert s.value("RETURN count(SELECT id FROM chat)") == 1


def test_radius_nearest_first_and_style_role_filters(dancer):
    ana = dancer("ana")
    dancer("paris", city=PARIS, styles=(("salsa", "advanced", "follow"),))
    dancer("berlin-leader", styles=(("salsa", "beginner", "lead"),))
    dancer("bachata", styles=(("bachata", "advanced", "both"),))
    html = ana.get("/discover?radius_km=100").get_data(as_text=True)
    assert set(names(html)) == {"berlin-leader", "bachata"}  # Paris is 878 km away
    assert names(ana.get("/discover?radius_km=100&style=salsa&role=lead").get_data(
        as_text=True)) == ["berlin-leader"]
    assert names(ana.get("/discover?radius_km=100&style=bachata&role=lead").get_data(
        as_text=True)) == ["bachata"]  # "both" leads too
    assert names(ana.get("/discover?radius_km=100&style=salsa&level=advanced").get_data(
        as_text=True)) == []


def test_pro_members_reach_500_km_in_distance_order(dancer):
    ana = dancer("ana", tier="pro")
    dancer("paris", city=PARIS)
    dancer("near")
    html = ana.get("/discover?radius_km=500").get_data(as_text=True)
    assert names(html) == ["near"]
    html = ana.get("/discover?radius_km=500&style=salsa").get_data(as_text=True)
    assert "paris" not in names(html)  # 878 km


@pytest.mark.parametrize("query, field", [
    ("radius_km=4", "radius"), ("radius_km=501", "radius"), ("radius_km=inf", "radius"),
    ("radius_km=200", "Free members"), ("age_min=17", "Ages"), ("age_min=40&age_max=30", "lower"),
    ("height_min=20", "Heights"), ("style=nope", "style"), ("level=advanced", "style"),
    ("after=%%%", "page link"),
])
def test_filters_out_of_range_are_named_and_kept(dancer, query, field):
    ana = dancer("ana")
    response = ana.get(f"/discover?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field.lower() in html.lower()
    assert 'class="field-error"' in html or 'class="form-errors"' in html


def test_cursor_pagination_visits_each_dancer_once(dancer, monkeypatch):
    from idance_web.services import discovery

    monkeypatch.setattr(discovery, "PAGE", 2)
    ana = dancer("ana")
    for i in range(5):
        dancer(f"dancer{i}")
    seen, url = [], "/discover"
    for _ in range(5):
        html = ana.get(url).get_data(as_text=True)
        seen += names(html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    assert sorted(seen) == [f"dancer{i}" for i in range(5)]


def test_members_only_and_no_city_or_no_birth_date_are_told_what_to_do(client, dancer):
    for path in ("/discover", "/matches", "/u/ana", "/discover/passed"):
        assert client.get(path).status_code == 302
    nocity = dancer("nocity", city=None)
    assert "Set your city" in nocity.get("/discover").get_data(as_text=True)
    nobirth = dancer("nobirth", born=None)
    assert "18 and over" in nobirth.get("/discover").get_data(as_text=True)


def test_minors_appear_nowhere_and_cannot_like(dancer, db):
    ana = dancer("ana")
    kid = dancer("kid", born="2012-01-01")
    assert names(ana.get("/discover").get_data(as_text=True)) == []
    assert swipe(ana, "kid").status_code == 404
    assert swipe(kid, "ana").status_code == 403
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM swipe)") == 0


def test_liking_oneself_twice_and_unknown_dancers(dancer):
    ana = dancer("ana")
    dancer("ben")
    assert "cannot like yourself" in swipe(ana, "ana", follow_redirects=True).get_data(
        as_text=True)
    swipe(ana, "ben")
    assert "already answered" in swipe(ana, "ben", follow_redirects=True).get_data(as_text=True)
    assert swipe(ana, "nobody").status_code == 404
    assert ana.get("/u/nobody").status_code == 404


def test_the_daily_like_limit_says_when_it_resets(app, dancer):
    app.config["IDANCE"] = app.config["IDANCE"].with_overrides(daily_likes=2)
    ana = dancer("ana")
    for name in ("bee1", "bee2", "bee3"):
        dancer(name)
    assert [swipe(ana, n, headers={"Accept": "application/json"}).status_code
            for n in ("bee1", "bee2", "bee3")] == [200, 200, 429]
    body = swipe(ana, "bee3", headers={"Accept": "application/json"}).get_json()
    assert "midnight" in body["error"] and body["resets_at"]
    assert swipe(ana, "bee3", direction="pass").status_code == 303  # passes are not limited


def test_a_block_hides_both_ways_everywhere(dancer, db):
    ana, ben, cat = dancer("ana"), dancer("ben"), dancer("cat")
    swipe(ana, "ben")
    swipe(ben, "ana")
    token = csrf_token(cat, "/discover")
    cat.post("/u/ben/follow", data={"csrf_token": token})
    token = csrf_token(ben, "/discover")
    assert ben.post("/u/ana/block", data={"csrf_token": token}).status_code == 303
    # As ana, who cannot read the block: ben is gone from discovery, profiles and matches.
    assert "ben" not in names(ana.get("/discover").get_data(as_text=True))
    assert ana.get("/u/ben").status_code == 404
    assert "Ben" not in ana.get("/matches").get_data(as_text=True)
    assert swipe(ana, "ben").status_code == 404
    assert ben.get("/u/ana").status_code == 404
    with db.member("ana") as s:
        assert s.rows("SELECT id FROM block") == []  # she cannot read who blocked her
        assert s.rows("SELECT id FROM follow WHERE out = type::thing('user', 'ben')") == []
    assert set(names(cat.get("/discover").get_data(as_text=True))) == {"ana", "ben"}


def test_hidden_distance_shows_bands_and_resists_bisection(dancer):
    ana = dancer("ana", tier="pro")
    dancer("hidden", city=PARIS, show_distance=False)  # 878 km from Berlin: beyond 500
    dancer("shy", show_distance=False)  # same city: the 10 km band
    html = ana.get("/discover?radius_km=5").get_data(as_text=True)
    assert names(html) == []  # her 10 km band is not inside a 5 km radius
    html = ana.get("/discover?radius_km=10").get_data(as_text=True)
    assert names(html) == ["shy"] and "within 10 km" in html
    assert "< 1 km" not in html
    for radius in (10, 50, 100, 250, 500):
        assert "hidden" not in names(ana.get(f"/discover?radius_km={radius}").get_data(
            as_text=True))


def test_no_coordinates_in_any_page_or_json(dancer):
    ana = dancer("ana")
    dancer("ben")
    pages = [ana.get(p).get_data(as_text=True) for p in ("/discover", "/u/ben", "/matches")]
    pages.append(swipe(ana, "ben", headers={"Accept": "application/json"}).get_data(as_text=True))
    for html in pages:
        assert not re.search(r"\b\d{1,3}\.\d{4,}\b", html), "a coordinate-like number leaked"
        assert "location" not in html.lower() or "vector" not in html.lower()


def test_unmatch_is_final_and_hides_the_match_from_both(dancer, db):
    ana, ben = dancer("ana"), dancer("ben")
    swipe(ana, "ben")
    swipe(ben, "ana")
    pair = re.search(r'/matches/([^/]+)/unmatch', ana.get("/matches").get_data(as_text=True))
    token = csrf_token(ana, "/matches")
    assert ana.post(f"/matches/{pair.group(1)}/unmatch",
                    data={"csrf_token": token}).status_code == 303
    assert "Ben" not in ana.get("/matches").get_data(as_text=True)
    assert "Ana" not in ben.get("/matches").get_data(as_text=True)
    other = dancer("other")
    token = csrf_token(other, "/matches")
    assert other.post(f"/matches/{pair.group(1)}/unmatch",
                      data={"csrf_token": token}).status_code == 404


def test_pro_sees_who_liked_her_and_undoes_a_pass_free_does_not(dancer, db):
    ana, pro = dancer("ana"), dancer("pro", tier="pro")
    swipe(ana, "pro")
    assert "Ana" in pro.get("/discover/liked-you").get_data(as_text=True)
    swipe(pro, "ana", direction="pass")
    assert "Ana" in pro.get("/discover/passed").get_data(as_text=True)
    token = csrf_token(pro, "/discover")
    pro.post("/u/ana/undo-pass", data={"csrf_token": token})
    assert "ana" in names(pro.get("/discover").get_data(as_text=True))
    free = dancer("free")
    swipe(pro, "free")
    assert "@pro" not in free.get("/discover/liked-you").get_data(as_text=True)
    swipe(free, "ana", direction="pass")
    token = csrf_token(free, "/discover")
    free.post("/u/ana/undo-pass", data={"csrf_token": token})
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM swipe WHERE in = user:free "
                       "AND direction = 'pass')") == 1


def test_super_likes_are_vip_and_shown_to_everyone(dancer):
    ana, vip = dancer("ana"), dancer("vip", tier="vip")
    dancer("ben")
    assert "VIP" in swipe(ana, "ben", direction="super_like", follow_redirects=True).get_data(
        as_text=True)
    swipe(vip, "ana", direction="super_like")
    assert "Super-liked you" in ana.get("/discover/liked-you").get_data(as_text=True)


def test_vip_travel_mode_discovers_around_another_city(dancer):
    vip = dancer("vip", tier="vip")
    dancer("parisienne", city=PARIS)
    html = vip.get("/discover?travel_query=Paris").get_data(as_text=True)
    assert names(html) == ["parisienne"] and "Paris" in html
    free = dancer("free")
    assert free.get(f"/discover?travel_city={PARIS}").status_code == 400


def test_follow_and_lists_on_the_member_page(dancer):
    ana, ben = dancer("ana"), dancer("ben")
    token = csrf_token(ana, "/discover")
    ana.post("/u/ben/follow", data={"csrf_token": token})
    html = ben.get("/u/ana").get_data(as_text=True)
    assert "Following (1)" in html and "Ben" in ana.get("/u/ben").get_data(as_text=True)
    assert "Followers (1)" in ana.get("/u/ben").get_data(as_text=True)
    ana.post("/u/ben/follow", data={"csrf_token": token, "follow": "0"})
    assert "Followers (0)" in ana.get("/u/ben").get_data(as_text=True)


def test_reports_are_stored_rate_limited_and_listed_for_operators(app, dancer, db):
    ana = dancer("ana")
    dancer("ben")
    token = csrf_token(ana, "/u/ben")
    response = ana.post("/u/ben/report", data={"csrf_token": token, "report-reason": "spam",
                                                "report-note": "Sells followers"},
                        follow_redirects=True)
    assert "received your report" in response.get_data(as_text=True)
    bad = ana.post("/u/ben/report", data={"csrf_token": token, "report-reason": "nope"},
                   follow_redirects=True)
    assert "Not a valid choice" in bad.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["reports"])
    assert "spam" in result.output and "@ben (by @ana)" in result.output
    assert "1 open report(s)." in result.output
    statuses = [ana.post("/u/ben/report", data={"csrf_token": token,
                                                "report-reason": "other"}).status_code
                for _ in range(10)]
    assert statuses[-1] == 429


def test_set_tier_is_the_worker_s_alone(app, dancer, db):
    ana = dancer("ana")
    dancer("ben")
    assert "Super-like" not in ana.get("/u/ben").get_data(as_text=True)
    with db.member("ana") as s:
        s.query("UPDATE user:ana SET tier = 'vip'")
        assert s.value("RETURN user:ana.tier") == "free"
    result = app.test_cli_runner().invoke(args=["set-tier", "ana", "vip"])
    assert result.exit_code == 0 and "ana is now vip" in result.output
    assert "Super-like" in ana.get("/u/ben").get_data(as_text=True)
    unknown = app.test_cli_runner().invoke(args=["set-tier", "nobody", "pro"])
    assert unknown.exit_code != 0 and "no member named" in unknown.output


def test_a_second_like_and_a_second_create_of_the_pair_make_nothing_new(dancer, db):
    dancer("ana")
    dancer("ben")
    with db.member("ana") as s:
        s.query("RELATE user:ana->swipe->user:ben SET direction = 'like'")
    with db.member("ben") as s:
        s.query("RELATE user:ben->swipe->user:ana SET direction = 'like'")
    from idance_web.db_errors import DatabaseError
    from idance_web.errors import AppError, Conflict

    with pytest.raises(Conflict):
        with db.member("ben") as s:
            s.query("RELATE user:ben->swipe->user:ana SET direction = 'like'")
    with db.system() as s:
        with pytest.raises((AppError, DatabaseError)):
            s.query("CREATE match:[user:ana, user:ben] SET users = [user:ana, user:ben]")
        assert s.value("RETURN count(SELECT id FROM match)") == 1
        assert s.value("RETURN count(SELECT id FROM chat)") == 1


def test_a_group_page_lists_its_followers(app, dancer, db):
    ana = dancer("ana")
    with db.system() as s:
        s.query("CREATE group:g SET slug = 'salsa-lab', name = 'Salsa Lab', kind = 'studio', "
                "created_by = user:ana, visibility = 'public'")
    assert "No followers yet." in ana.get("/groups/salsa-lab").get_data(as_text=True)
    with db.member("ana") as s:
        s.query("RELATE user:ana->follow->group:g")
    html = ana.get("/groups/salsa-lab").get_data(as_text=True)
    assert 'href="/u/ana">Ana</a>' in html


def test_the_groups_tab_starts_near_her_city(dancer, db):
    ana = dancer("ana")
    with db.system() as s:
        s.query("CREATE group:g SET slug = 'berlin-crew', name = 'Berlin Crew', kind = 'crew', "
                "created_by = user:ana, city = city:2950159, location = city:2950159.vector")
    html = ana.get("/discover/groups").get_data(as_text=True)
    assert "Berlin Crew" in html and "Nearest to Berlin" in html


def test_similar_dancers_tab_and_member_page_follow_the_worker_s_lists(dancer, db):
    from idance_web.jobs import Worker
    from idance_web.services import similar

    ana = dancer("ana", styles=(("salsa", "advanced", "lead"),))
    dancer("salsera", styles=(("salsa", "advanced", "follow"),))
    dancer("bboy", city=PARIS, styles=(("breaking", "professional", "both"),))
    dancer("minor", born="2012-01-01", styles=(("salsa", "advanced", "lead"),))
    with db.system() as s:
        s.query("UPDATE profile SET bio = 'Salsa socials every week, classes and festivals.' "
                "WHERE owner IN [user:ana, user:salsera, user:minor]; "
                "UPDATE profile SET bio = 'Breaking battles and cyphers.' WHERE owner = user:bboy;")
    Worker(db).run_due()
    similar.refresh_similar(db, {})
    html = ana.get("/discover/similar").get_data(as_text=True)
    assert names(html) == ["salsera", "bboy"]  # most alike first; never the minor
    assert "Similar dancers" in ana.get("/u/salsera").get_data(as_text=True)
    swipe(ana, "salsera", direction="pass")
    assert names(ana.get("/discover/similar").get_data(as_text=True)) == ["bboy"]
