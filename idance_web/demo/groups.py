"""The demo groups: six studios, crews, schools and a company, each owned by a demo member in
her city, with admins, members, pending requests and a published site."""

from __future__ import annotations

from surrealdb import RecordID

from ..blocks import validate
from ..db import Database, DatabaseError
from ..errors import AppError
from ..services import sites

# (slug, name, kind, owner, styles, join mode, description): owners are demo members, and each
# group lives in its owner's city.
DEMO_GROUPS = [
    ("sol-salsa-studio", "Sol Salsa Studio", "studio", "demo_001", ["salsa", "bachata"],
     "request", "Salsa and bachata classes every weeknight, socials on **Fridays**."),
    ("north-side-crew", "North Side Crew", "crew", "demo_003", ["hip_hop", "breaking"],
     "request", "Training sessions, battles and cyphers. Bring your own cardboard."),
    ("tango-del-puerto", "Tango del Puerto", "school", "demo_004", ["argentine_tango"],
     "open", "Argentine tango from the first embrace to performance level."),
    ("contempo-company", "Contempo Dance Company", "company", "demo_006",
     ["contemporary", "ballet"], "invite", "A touring contemporary company. Auditions twice a year."),
    ("swing-lab", "Swing Lab", "studio", "demo_010", ["lindy_hop", "west_coast_swing"], "open",
     "Lindy hop and West Coast Swing: classes, practicas and a monthly live-band night."),
    ("waack-attack", "Waack Attack", "crew", "demo_015", ["waacking", "house"], "request",
     "Waacking and house crew. We train on Sundays and take requests from all levels."),
]


def load_demo_groups(db: Database) -> str:
    """Demo groups with owners, admins, members and pending requests; idempotent.

    Owned by demo members in their cities; the roster comes from demo members of the same
    city. Runs as the system, so the ``group_owner`` event makes each owner row.
    """
    with db.system() as s:
        if s.value("RETURN record::exists(type::thing('group', 'demo_' + $k))",
                   {"k": DEMO_GROUPS[0][0].replace("-", "_")}):
            return "Demo groups already loaded."
        made = 0
        for slug, name, kind, owner, styles, join_mode, description in DEMO_GROUPS:
            known = [st for st in styles
                     if s.value("RETURN record::exists(type::thing('dance_style', $k))", {"k": st})]
            owner_id = RecordID("user", owner)
            if not s.value("RETURN record::exists($o)", {"o": owner_id}):
                continue  # demo members not loaded (or fewer of them)
            s.query(
                """LET $p = (SELECT city, location FROM profile WHERE owner = $owner LIMIT 1)[0];
                   CREATE $id SET slug = $slug, name = $name, kind = $kind, styles = $styles,
                       description = $description, join_mode = $join_mode, visibility = 'public',
                       city = $p.city, location = $p.location, created_by = $owner RETURN NONE;
                   LET $others = (SELECT VALUE owner FROM profile WHERE city = $p.city
                       AND owner != $owner AND string::starts_with(record::id(owner), 'demo_')
                       ORDER BY owner LIMIT 8);
                   FOR $i IN 0..array::len($others) {
                       CREATE group_member SET group = $id, user = $others[$i],
                           role = IF $i = 0 THEN 'admin' ELSE IF $i < 6 THEN 'member'
                               ELSE 'requested' END;
                   };""",
                {"id": RecordID("group", "demo_" + slug.replace("-", "_")), "slug": slug,
                 "name": name, "kind": kind, "styles": [RecordID("dance_style", st) for st in known],
                 "description": description, "join_mode": join_mode, "owner": owner_id},
            )
            made += 1
    published = [_publish_group_site(db, slug, name, kind, owner, description)
                 for slug, name, kind, owner, _, _, description in DEMO_GROUPS]
    return f"Loaded {made} demo groups ({sum(published)} with a published site)."


def _publish_group_site(db: Database, slug: str, name: str, kind: str, owner: str,
                        description: str) -> bool:
    """A published site for a demo group, built by its owner: banner, story, roster, contact."""
    group = RecordID("group", "demo_" + slug.replace("-", "_"))
    try:
        site = sites.create_site(db, owner, group)
    except (AppError, DatabaseError):  # the group was not made (its owner is missing)
        return False
    blocks = [
        ("hero", {"title": name, "subtitle": f"A dance {kind} on iDance",
                  "cta_label": "Write to us", "cta_url": f"/g/{slug}#contact"}),
        ("text", {"title": "Who we are", "body": description}),
        ("schedule", {"title": "When we meet", "items": [
            {"title": "Open class", "weekday": "wednesday", "time": "19:30", "level": "all levels"},
            {"title": "Practice", "weekday": "sunday", "time": "16:00", "level": "all levels"}]}),
        ("members", {"title": "Our people"}),
        ("map", {"title": "Where"}),
        ("contact", {"title": "Get in touch"}),
    ]
    for kind_name, data in blocks:
        sites.add_block(db, owner, site["id"], "home", kind_name,
                        validate(kind_name, data, "group"))
    sites.publish_site(db, owner, site["id"])
    return True
