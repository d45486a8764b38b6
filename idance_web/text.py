"""Member-written text: Markdown rendered to safe HTML, plain-text previews, and folding.

Two layers, so that a gap in one is covered by the other: python-markdown runs with its raw-HTML
handling removed (anything that looks like a tag is shown as text), then nh3 sanitizes the
result against a small allow-list.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

# No <img>: an image URL in a bio would load from any server on every page view, handing that
# server each visitor's IP address and the page they read (tracking pixels), and would bypass
# the upload pipeline that strips metadata. Images go through media.py instead; a Markdown
# image is shown as its alt text. No <h1>: the page owns its single title, so headings shift
# one level down.
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h2", "h3", "h4", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"
# Extensions are an allow-list too: attr_list / md_in_html would let members set attributes.
MARKDOWN_EXTENSIONS = ["sane_lists", "nl2br", "fenced_code"]

# Letters NFKD leaves whole; folded by hand so "Łódź" is found by "lodz".
_FOLD_EXTRA = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"}
)

HEADING_SHIFT = {"h1": "h2", "h2": "h3", "h3": "h4", "h4": "h4", "h5": "h4", "h6": "h4"}
BLOCK_TAGS = {"p", "br", "pre", "blockquote", "ul", "ol", "li", "h2", "h3", "h4", "hr"}
ELLIPSIS = "…"


class _Restyle(Treeprocessor):
    """Demote headings and replace images by their alt text."""

    def run(self, root: Element) -> None:
        for parent in root.iter():
            if parent.tag in HEADING_SHIFT:
                parent.tag = HEADING_SHIFT[parent.tag]
            for index, child in reversed(list(enumerate(parent))):
                if child.tag == "img":
                    _replace_with_text(parent, index, child.get("alt", ""))


def _replace_with_text(parent: Element, index: int, text: str) -> None:
    child = parent[index]
    text += child.tail or ""
    if index:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(child)


class _SafeMarkdown(Extension):
    """Drop python-markdown's raw-HTML passthrough; restyle the tree."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (library API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_Restyle(md), "idance_restyle", 5)


def _markdown_to_html(text: str) -> str:
    # A Markdown instance keeps state between conversions and is not thread-safe: one per call.
    md = markdown.Markdown(extensions=[_SafeMarkdown(), *MARKDOWN_EXTENSIONS])
    return md.convert(text)


def _clean(html: str, tags: set[str]) -> Markup:
    return Markup(nh3.clean(
        html,
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        # Relative links would resolve against our own pages; members link to full URLs.
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    ))


def render_markdown(text: str) -> Markup:
    """Render member-written Markdown as sanitized HTML, safe to insert into a page."""
    return _clean(_markdown_to_html(text or ""), ALLOWED_TAGS)


# Chat messages are short and inline: links, emphasis, code and line breaks, no block layout.
MESSAGE_TAGS = {"p", "br", "strong", "em", "code", "a"}


def render_message(text: str) -> Markup:
    """Render a chat message as sanitized inline HTML (headings, lists, quotes and images
    come out as their text)."""
    return _clean(_markdown_to_html(text or ""), MESSAGE_TAGS)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(text: str, limit: int = 160) -> str:
    """Markdown reduced to one line of plain text of at most ``limit`` characters.

    For previews and meta descriptions: markup is stripped, whitespace collapsed, and a long
    text is cut at a word boundary with an ellipsis. The result is not HTML: escape it.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    collector = _TextCollector()
    collector.feed(str(render_markdown(text)))
    collector.close()
    flat = re.sub(r"\s+", " ", "".join(collector.parts)).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - len(ELLIPSIS) + 1]
    if not cut[-1].isspace():
        head, space, _ = cut.rpartition(" ")
        # One very long word: a hard cut beats an empty preview.
        cut = head if space and head else cut[:-1]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def fold(text: str) -> str:
    """Lowercase, accents removed, whitespace collapsed: the one folding of names into keys
    (``city.name_key``, the city search, usernames made from a name)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().translate(_FOLD_EXTRA).split())
