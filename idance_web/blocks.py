"""The content block registry: each block type's fields, its validator and its partial.

A block type is data: a list of fields (and optionally repeated items), checked by one generic
validator plus an optional type-specific one. The public page loops over blocks and includes
``blocks/_<type>.html`` for each; members never write templates or HTML.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from .errors import Invalid
from .services.options import LEVELS as DANCER_LEVELS

MAX_TEXT = 200
MAX_MARKDOWN = 20_000
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
LEVELS = ["all levels", *DANCER_LEVELS]  # a class's level
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIMEO_ID = re.compile(r"^\d{6,12}$")


@dataclass(frozen=True)
class Field:
    """One field of a block (or of one of its repeated items)."""

    name: str
    label: str
    kind: str = "text"  # text | markdown | url | link | int | choice | bool | image | date | time
    required: bool = False
    max: int = MAX_TEXT
    options: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Items:
    """Repeated entries of a block (schedule rows, prices, links, gallery images)."""

    label: str
    fields: tuple[Field, ...]
    max: int = 24


@dataclass(frozen=True)
class BlockType:
    name: str
    label: str
    fields: tuple[Field, ...] = ()
    items: Items | None = None
    check: Callable[[dict, dict], None] | None = None  # (data, errors) → adds errors
    live: str | None = None  # the live data it shows: vlogs | styles | members
    owners: tuple[str, ...] = ("user", "group")

    @property
    def template(self) -> str:
        return f"blocks/_{self.name}.html"


def video_embed(url: str) -> str | None:
    """The privacy-friendly embed address for a YouTube or Vimeo link, else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme != "https":
        return None
    host = (parts.hostname or "").lower()
    video = None
    if host in ("youtu.be",):
        video = parts.path.strip("/")
    elif host in ("www.youtube.com", "youtube.com", "m.youtube.com", "www.youtube-nocookie.com"):
        if parts.path == "/watch":
            video = parse_qs(parts.query).get("v", [""])[0]
        elif parts.path.startswith(("/embed/", "/shorts/", "/live/")):
            video = parts.path.split("/")[2]
    if video is not None:
        return f"https://www.youtube-nocookie.com/embed/{video}" if _YOUTUBE_ID.match(video) else None
    if host in ("vimeo.com", "www.vimeo.com", "player.vimeo.com"):
        last = parts.path.rstrip("/").split("/")[-1]
        return f"https://player.vimeo.com/video/{last}" if _VIMEO_ID.match(last) else None
    return None


def _check_video(data: dict, errors: dict) -> None:
    if data.get("url"):
        embed = video_embed(data["url"])
        if embed is None:
            errors["url"] = "Paste a YouTube or Vimeo link (https://…)."
        else:
            data["embed"] = embed


def _check_schedule(data: dict, errors: dict) -> None:
    for i, item in enumerate(data.get("items", [])):
        if not item.get("weekday") and not item.get("date"):
            errors[f"items-{i}-date"] = "Give a weekday or a date."


def _check_hero(data: dict, errors: dict) -> None:
    if bool(data.get("cta_label")) != bool(data.get("cta_url")):
        errors["cta_url"] = "A button needs both a label and an address."


TITLE = Field("title", "Heading", max=120)
REGISTRY: dict[str, BlockType] = {b.name: b for b in [
    BlockType("hero", "Hero banner", (
        Field("title", "Title", required=True, max=120), Field("subtitle", "Subtitle", max=240),
        Field("image", "Cover image", "image"), Field("cta_label", "Button label", max=40),
        Field("cta_url", "Button address", "link")), check=_check_hero),
    BlockType("text", "Text", (TITLE, Field("body", "Text", "markdown", required=True,
                                            max=MAX_MARKDOWN))),
    BlockType("image", "Image", (Field("image", "Image", "image", required=True),
                                 Field("caption", "Caption", max=240))),
    BlockType("gallery", "Gallery", (TITLE,), Items("Images", (
        Field("image", "Image", "image", required=True), Field("caption", "Caption", max=200)),
        max=24)),
    BlockType("video", "Video", (TITLE, Field("url", "YouTube or Vimeo link", "url",
                                              required=True, max=300),
                                 Field("caption", "Caption", max=240)), check=_check_video),
    BlockType("vlogs", "Latest vlogs", (TITLE, Field("count", "How many", "int", max=12)),
              live="vlogs"),
    BlockType("styles", "Dance styles", (TITLE,), live="styles"),
    BlockType("schedule", "Classes & events", (TITLE,), Items("Entries", (
        Field("title", "What", required=True, max=120),
        Field("style", "Style", max=60),
        Field("level", "Level", "choice", options=tuple(LEVELS)),
        Field("weekday", "Every", "choice", options=tuple(WEEKDAYS)),
        Field("date", "Or on", "date"),
        Field("time", "At (HH:MM)", "time"),
        Field("place", "Where", max=160)), max=40), check=_check_schedule),
    BlockType("links", "Links", (TITLE, Field("show_social", "Show my social profiles", "bool")),
              Items("Links", (Field("label", "Label", required=True, max=80),
                              Field("url", "Address", "url", required=True, max=300)), max=20)),
    BlockType("contact", "Contact form", (TITLE, Field("intro", "Intro", max=300)),),
    BlockType("quote", "Quote or testimonial", (
        Field("text", "Quote", required=True, max=600), Field("author", "Who said it", max=120))),
    BlockType("members", "Members", (TITLE,), live="members", owners=("group",)),
    BlockType("pricing", "Prices", (TITLE,), Items("Prices", (
        Field("name", "Name", required=True, max=80), Field("price", "Price", required=True,
                                                            max=40),
        Field("description", "Description", max=240)), max=20)),
    BlockType("map", "Location", (TITLE, Field("note", "Directions or note", max=300)),
              live="city"),
    BlockType("cta", "Button", (Field("label", "Label", required=True, max=40),
                                Field("url", "Address", "link", required=True, max=300),
                                Field("note", "Text beside it", max=200))),
]}


def types_for(owner_table: str) -> list[BlockType]:
    """The block types a member's (``user``) or a group's (``group``) site may use."""
    return [b for b in REGISTRY.values() if owner_table in b.owners]


def _value(spec: Field, raw, errors: dict, key: str):
    if spec.kind == "bool":
        return bool(raw) and raw not in ("0", "false", "off")
    if spec.kind == "image":
        image = raw if isinstance(raw, dict) and raw.get("variants") else None
        if image is None and spec.required:
            errors[key] = f"{spec.label} is required: choose a file."
        return image
    text = raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))
    if not text:
        if spec.required:
            errors[key] = f"{spec.label} is required."
        return None
    if len(text) > spec.max:
        errors[key] = f"{spec.label} must be at most {spec.max} characters."
        return None
    if spec.kind == "int":
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if not text.isdecimal() or not 1 <= int(text) <= spec.max:
            errors[key] = f"{spec.label} must be a number from 1 to {spec.max}."
            return None
        return int(text)
    if spec.kind == "choice" and text not in spec.options:
        errors[key] = f"Choose one of the options for {spec.label.lower()}."
        return None
    if spec.kind == "url" and not re.match(r"^https?://[^\s/]+\.[^\s]+$", text):
        errors[key] = "Enter a full address starting with https://"
        return None
    if spec.kind == "link" and not (re.match(r"^https?://[^\s/]+\.[^\s]+$", text)
                                    or re.match(r"^/[^/\\\s][^\s]*$|^/$", text)):
        errors[key] = "Enter an address starting with https:// or a page path like /@you/classes."
        return None
    if spec.kind == "date":
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            errors[key] = "Use YYYY-MM-DD."
            return None
    if spec.kind == "time" and not _TIME.match(text):
        errors[key] = "Use HH:MM (24-hour)."
        return None
    return text


def validate(kind: str, raw: dict, owner_table: str = "user") -> dict:
    """Checked, normalised data for a block of type ``kind``; ``Invalid`` otherwise.

    ``raw`` maps field names to submitted values and ``items`` to a list of dicts. Unknown
    keys are dropped, so nothing but the schema's fields reaches the database.
    """
    block = REGISTRY.get(kind)
    if block is None or owner_table not in block.owners:
        raise Invalid({"kind": "Choose a block type from the list."})
    errors: dict[str, str] = {}
    data = {}
    for spec in block.fields:
        value = _value(spec, raw.get(spec.name), errors, spec.name)
        if value is not None and value != "":
            data[spec.name] = value
    if block.items is not None:
        items = []
        for i, entry in enumerate((raw.get("items") or [])[: block.items.max + 10]):
            if not isinstance(entry, dict) or not any(v for v in entry.values()):
                continue
            item, before = {}, len(errors)
            for spec in block.items.fields:
                value = _value(spec, entry.get(spec.name), errors, f"items-{i}-{spec.name}")
                if value is not None and value != "":
                    item[spec.name] = value
            if len(errors) == before:
                items.append(item)
        if len(items) > block.items.max:
            errors["items"] = f"At most {block.items.max} entries."
        data["items"] = items
    if block.check:
        block.check(data, errors)
    if errors:
        raise Invalid(errors)
    return data
