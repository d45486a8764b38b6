"""Schedules as iCalendar files (RFC 5545), made with the icalendar library."""

from __future__ import annotations

import datetime as dt
import hashlib

from ..blocks import WEEKDAYS

RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DEFAULT_MINUTES = 60


def _start(entry: dict, today: dt.date) -> dt.datetime | dt.date:
    if entry.get("date"):
        day = dt.date.fromisoformat(entry["date"])
    else:  # the next occurrence of the weekday, today included
        wanted = WEEKDAYS.index(entry["weekday"])
        day = today + dt.timedelta(days=(wanted - today.weekday()) % 7)
    if entry.get("time"):
        hour, minute = map(int, entry["time"].split(":"))
        return dt.datetime.combine(day, dt.time(hour, minute))
    return day


def calendar(title: str, entries: list[dict], uid_domain: str, name: str,
             today: dt.date | None = None) -> bytes:
    """A calendar of ``entries`` (schedule block items); weekly ones repeat every week.

    Times are floating local times: a class at 19:00 is at 19:00 wherever the studio is.
    """
    from icalendar import Calendar, Event  # here: the serving process starts without it

    today = today or dt.date.today()
    cal = Calendar()
    cal.add("prodid", "-//iDance//Schedule//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{title} — schedule")
    for entry in entries:
        event = Event()
        start = _start(entry, today)
        event.add("summary", entry["title"] + (f" ({entry['style']})" if entry.get("style") else ""))
        event.add("dtstart", start)
        if isinstance(start, dt.datetime):
            event.add("dtend", start + dt.timedelta(minutes=DEFAULT_MINUTES))
        if entry.get("weekday"):
            event.add("rrule", {"freq": "weekly",
                                "byday": RRULE_DAYS[WEEKDAYS.index(entry["weekday"])]})
        if entry.get("place"):
            event.add("location", entry["place"])
        if entry.get("level"):
            event.add("description", f"Level: {entry['level']}")
        digest = hashlib.sha256(repr(sorted(entry.items())).encode()).hexdigest()[:16]
        event.add("uid", f"{name}-{digest}@{uid_domain}")
        event.add("dtstamp", dt.datetime.now(dt.timezone.utc))
        cal.add_component(event)
    return cal.to_ical()
