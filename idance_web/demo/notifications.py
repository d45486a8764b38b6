"""The documented demo account's notifications: one or more of every kind, some read.

Matches, follows and (with the demo chats) messages come from the database's events as the
other parts load; this part adds what they leave out, with real actors and subjects: likes,
comments, a reply and a tag on her vlog, a group invitation, an admin role in a crew with a
join request waiting, two new followers, a visitor's contact message and a welcome. Its marker is the welcome.
"""

from __future__ import annotations

from surrealdb import RecordID

from ..db import Database
from ..services.notifications import KINDS
from .discovery import ANA

WELCOME = "Welcome to iDance! Your notifications gather here; choose which ones you get in Settings."
CONTACT = ("Inés <ines@example.com> wrote via your site:\n\nHi! Do you give private lessons "
           "before weddings? We have two left feet and three months.\n\nThanks, Inés")
# She becomes an admin of a school (not the crew the form fuzzing keeps untouched).
CREW, CREW_OWNER = "tango-del-puerto", "demo_004"
INVITING, INVITER = "swing-lab", "demo_010"
REQUESTER = "demo_040"
FOLLOWERS = ["demo_048", "demo_056"]  # new since her last visit (unread)
# kind → the demo members who did it (newest last), on her vlog.
ON_HER_VLOG = {"vlog_like": ["demo_008", "demo_016", "demo_024", "demo_032"],
               "comment": ["demo_016", "demo_048"], "reply": ["demo_008"], "tag": ["demo_024"]}


def load_demo_notifications(db: Database) -> str:
    """Give the documented account notifications of every kind; idempotent."""
    me = RecordID("user", ANA)
    with db.system() as s:
        if not s.value("RETURN record::exists($me)", {"me": me}):
            return "No demo notifications: the demo members are missing."
        if s.value("RETURN count(SELECT id FROM notification WHERE recipient = $me AND "
                   "kind = 'system' AND text = $w LIMIT 1)", {"me": me, "w": WELCOME}):
            return "Demo notifications already loaded."
        vlog = _her_vlog(s, me)
        s.query(
            """LET $crew = (SELECT VALUE id FROM group WHERE slug = $crew_slug)[0];
               LET $inviting = (SELECT VALUE id FROM group WHERE slug = $inviting_slug)[0];
               -- Already read: what came before the demo's last visit.
               UPDATE notification SET read_at = time::now() WHERE unread_key = $me
                   AND kind IN ['match', 'follow'] RETURN NONE;
               FOR $f IN $followers {
                   LET $who = type::thing('user', $f);
                   IF count(SELECT id FROM follow WHERE in = $who AND out = $me) = 0 {
                       RELATE $who->follow->$me RETURN NONE;
                   };
               };
               FOR $kind IN object::keys($on_vlog) {
                   FOR $who IN $on_vlog[$kind] {
                       CREATE notification SET recipient = $me, kind = $kind,
                           actor = type::thing('user', $who), subject = $vlog RETURN NONE;
                   };
               };
               IF $crew != NONE {
                   -- She may have joined it already (the demo's group chat).
                   LET $row = (SELECT VALUE id FROM group_member WHERE group = $crew
                       AND user = $me)[0];
                   IF $row != NONE { UPDATE $row SET role = 'admin' RETURN NONE; }
                   ELSE { CREATE group_member SET group = $crew, user = $me, role = 'admin'
                       RETURN NONE; };
                   IF count(SELECT id FROM notification WHERE recipient = $me
                           AND kind = 'group_role') = 0 {
                       CREATE notification SET recipient = $me, kind = 'group_role',
                           text = 'admin', actor = type::thing('user', $crew_owner),
                           subject = $crew RETURN NONE;
                   };
                   -- The request's own event tells the crew's managers, her included.
                   CREATE group_member SET group = $crew, user = type::thing('user', $requester),
                       role = 'requested' RETURN NONE;
               };
               IF $inviting != NONE {
                   CREATE notification SET recipient = $me, kind = 'group_invite',
                       actor = type::thing('user', $inviter), subject = $inviting RETURN NONE;
               };
               CREATE notification SET recipient = $me, kind = 'contact', subject = $me,
                   text = $contact RETURN NONE;
               CREATE notification SET recipient = $me, kind = 'system', text = $welcome
                   RETURN NONE;""",
            {"me": me, "vlog": vlog, "on_vlog": ON_HER_VLOG, "crew_slug": CREW,
             "crew_owner": CREW_OWNER, "inviting_slug": INVITING, "inviter": INVITER,
             "requester": REQUESTER, "contact": CONTACT, "welcome": WELCOME,
             "followers": FOLLOWERS})
        if not s.value("RETURN count(SELECT id FROM notification WHERE recipient = $me "
                       "AND kind = 'message' LIMIT 1)", {"me": me}):
            _a_message(s, me)
        kinds = s.value("RETURN array::distinct(SELECT VALUE kind FROM notification "
                        "WHERE recipient = $me)", {"me": me})
        unread = s.value("RETURN count(SELECT id FROM notification WHERE unread_key = $me)",
                         {"me": me})
    return (f"The first member has notifications of {len(set(kinds) & set(KINDS))} kinds, "
            f"{unread} unread.")


def _her_vlog(s, me: RecordID):
    """Her newest vlog; without one (the vlogs are loaded by their own part), a short one."""
    found = s.value("RETURN (SELECT VALUE id FROM vlog WHERE author = $me LIMIT 1)[0]",
                    {"me": me})
    if found is not None:
        return found
    return s.value("""RETURN (CREATE ONLY vlog SET owner = $me, author = $me,
        title = 'Sunday social, first spins', visibility = 'public', published_at = time::now()
        RETURN VALUE id)""", {"me": me})


def _a_message(s, me: RecordID) -> None:
    """A message notification from a match, when the demo chats wrote none (their part is
    loaded separately): it points at the match's chat."""
    s.query("""LET $chat = (SELECT VALUE chat FROM match WHERE users CONTAINS $me LIMIT 1)[0];
        IF $chat != NONE {
            FOR $i IN [1, 2] {
                CREATE notification SET recipient = $me, kind = 'message', subject = $chat,
                    actor = array::complement($chat.members, [$me])[0]
                    RETURN NONE;
            };
        };""", {"me": me})
