"""The demo's conversations: each demo match has a few messages (the documented account,
``demo_000``, has some unread), and one demo group has a group chat she belongs to.

Sent through the chat services as each member, so the permissions, events and read states
are those of real use. Its marker is the group chat.
"""

from __future__ import annotations

from surrealdb import RecordID

from ..db import Database, key_of
from ..services import chat_actions
from .discovery import ANA, MATCHED

GROUP = "tango-del-puerto"  # an open group; the documented account joins it
# (who speaks: 0 = the first of the pair, 1 = the second; text). The last lines of a
# conversation are left unread by the one who did not write them.
CONVERSATIONS = [
    [(1, "Hi! We matched :) Do you go to the Friday social?"),
     (0, "Hello! Yes, almost every week. Are you coming this Friday?"),
     (1, "I am. Save me a dance, a **slow** one to start."),
     (1, "And tell me which room: last time I got lost.")],
    [(0, "Hey, I saw you also dance bachata. Which school?"),
     (1, "Mostly socials, and a sensual workshop now and then."),
     (1, "There is one on Sunday: https://example.org/workshop")],
    [(0, "Nice to match! Practica on Wednesday?"),
     (1, "Sounds good, 19:00 at the usual place?"),
     (0, "Perfect, see you there.")],
]
GROUP_TALK = [
    ("owner", "Welcome to the Tango del Puerto chat! Milonga on Saturday from 21:00."),
    ("member", "Can we bring friends who are beginners?"),
    ("owner", "Of course: there is a short *introduction* at 20:30."),
    ("member", "I will bring the playlist for the practica."),
]


def load_demo_chats(db: Database) -> str:
    """Messages in every demo match and a group chat in one demo group; idempotent."""
    group = _group(db)
    if group is None:
        return "Demo chats skipped (no demo groups)."
    chat = RecordID("chat", [group["id"]])
    with db.system() as s:
        if s.value("RETURN record::exists($c)", {"c": chat}):
            return "Demo chats already loaded."
    sent = 0
    for n, pair in enumerate(MATCHED):
        key = ".".join(sorted(pair))
        for i, (who, text) in enumerate(CONVERSATIONS[n % len(CONVERSATIONS)]):
            chat_actions.send(db, pair[who], key, text, f"demo-{n:02d}-{i:02d}")
            sent += 1
    # She joins the group (as any member of an open group may), its owner opens the chat.
    with db.member(ANA) as s:
        s.query("CREATE group_member SET group = $g, user = $me, role = 'member' RETURN NONE",
                {"g": group["id"], "me": RecordID("user", ANA)})
    key = chat_actions.open_group_chat(db, group["owner"], GROUP)
    speakers = {"owner": group["owner"], "member": group["member"] or group["owner"]}
    for i, (who, text) in enumerate(GROUP_TALK):
        chat_actions.send(db, speakers[who], key, text, f"demo-group-{i:02d}")
        sent += 1
    return f"Demo chats: {sent} messages in {len(MATCHED)} matches and the {GROUP} group chat."


def _group(db: Database) -> dict | None:
    """The demo group with its owner's key and one plain member's key (or None)."""
    with db.system() as s:
        found = s.one(
            """LET $g = (SELECT VALUE id FROM group WHERE slug = $slug LIMIT 1)[0];
               RETURN IF $g THEN {
                   id: $g,
                   owner: (SELECT VALUE user FROM group_member WHERE group = $g
                       AND role = 'owner' LIMIT 1)[0],
                   member: (SELECT VALUE user FROM group_member WHERE group = $g
                       AND role = 'member' LIMIT 1)[0],
               } END;""", {"slug": GROUP})
    if not found:
        return None
    return {"id": found["id"], "owner": key_of(found["owner"]),
            "member": key_of(found["member"]) if found.get("member") else None}
