"""Markdown rendering and plain-text previews: sanitization is checked on parsed output."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from idance_web.text import (
    ALLOWED_TAGS, LINK_REL, MESSAGE_TAGS, plain_text, render_markdown, render_message,
)

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&#58;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "[x]: javascript:alert(1)\n\n[x]",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[![x](https://evil.example/a.png)](javascript:alert(1))",
    '[x](https://example.com" onclick="alert(1))',
    "<svg onload=alert(1)>",
    '<iframe srcdoc="<script>alert(1)</script>">',
    '<iframe src="javascript:alert(1)"></iframe>',
    'para\n{: onclick="alert(1)"}',
    '# Title {: onmouseover="alert(1)" }',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)" onclick="alert(1)">x</a>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<details open ontoggle=alert(1)>",
    "<!--<script>alert(1)</script>-->",
    "<object data=javascript:alert(1)></object>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "> <script>alert(1)</script>\n\n- <img src=x onerror=alert(1)>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "<p>\n\n<script>alert(1)</script>\n\n</p>",
]

BAD_SCHEME = re.compile(r"^(javascript|data|vbscript):")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def url_scheme(value: str) -> str:
    # Browsers drop ASCII whitespace and control characters inside a scheme.
    return re.sub(r"[\x00-\x20]", "", value).lower()


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_xss_corpus_is_neutralized(source):
    html = str(render_markdown(source))
    assert "<script" not in html.lower()
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name in {"href", "title", "rel"} and tag == "a", (tag, name)
            if name == "href":
                assert not BAD_SCHEME.match(url_scheme(value or "")), value
                assert value.split(":", 1)[0].lower() in {"http", "https", "mailto"}


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_chat_messages_keep_only_inline_markup(source):
    html = str(render_message(source))
    assert "<script" not in html.lower()
    for tag, attrs in elements(html):
        assert tag in MESSAGE_TAGS, tag
        assert all(not name.startswith("on") for name in attrs), (tag, attrs)


def test_chat_message_keeps_links_emphasis_and_line_breaks_but_no_blocks():
    html = str(render_message("**hi** [site](https://example.com)\nnext\n\n# Big\n\n- item"))
    tags = [tag for tag, _ in elements(html)]
    assert {"strong", "a", "br"} <= set(tags)
    assert not {"h2", "ul", "li"} & set(tags)
    assert "Big" in html and "item" in html


def test_raw_html_is_shown_as_text_not_interpreted():
    html = str(render_markdown("<b>bold</b> & <script>x</script>"))
    assert html == "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</p>"


def test_https_link_keeps_href_title_and_gets_rel():
    html = str(render_markdown('See [my site](https://dance.example/a?b=1&c=2 "Mine").'))
    [(tag, attrs)] = [e for e in elements(html) if e[0] == "a"]
    assert attrs == {
        "href": "https://dance.example/a?b=1&c=2",
        "title": "Mine",
        "rel": LINK_REL,
    }
    assert LINK_REL == "nofollow ugc noopener"


@pytest.mark.parametrize("source, href", [
    ("<https://dance.example/>", "https://dance.example/"),
    ("[mail](mailto:ana@dance.example)", "mailto:ana@dance.example"),
    ("<ana@dance.example>", "mailto:ana@dance.example"),
    ("[plain](http://dance.example)", "http://dance.example"),
])
def test_allowed_schemes_survive(source, href):
    links = [attrs for tag, attrs in elements(str(render_markdown(source))) if tag == "a"]
    assert links == [{"href": href, "rel": LINK_REL}]


@pytest.mark.parametrize("source", ["[x](/dancers/ana)", "[x](//evil.example)", "[x](ftp://h/f)"])
def test_relative_and_other_scheme_links_lose_their_href(source):
    [(tag, attrs)] = elements(str(render_markdown(source)))[1:]
    assert tag == "a" and "href" not in attrs


def test_basic_markdown_and_heading_shift():
    source = "# Top\n\n### Three\n\n**b** *i* `c`\n\n> q\n\n1. one\n2. two\n\n---"
    html = str(render_markdown(source))
    tags = [tag for tag, _ in elements(html)]
    assert tags[:2] == ["h2", "h4"]
    for tag in ("strong", "em", "code", "blockquote", "ol", "li", "hr"):
        assert tag in tags
    assert "<h1" not in html


def test_image_becomes_its_alt_text():
    html = str(render_markdown("before ![a dancer](https://evil.example/t.png) after"))
    assert html == "<p>before a dancer after</p>"


def test_fenced_code_keeps_text_and_drops_class():
    html = str(render_markdown("```python\nif a < b: pass\n```"))
    assert html == "<pre><code>if a &lt; b: pass\n</code></pre>"


def test_single_newline_is_a_line_break():
    assert str(render_markdown("one\ntwo")) == "<p>one<br>\ntwo</p>"


def test_returns_markup_and_handles_empty():
    assert isinstance(render_markdown("x"), Markup)
    assert render_markdown("") == Markup("")


def test_plain_text_strips_markup_and_collapses_whitespace():
    text = "# Salsa\n\nI **love**   [dancing](https://x.example)\n\n- on1\n- on2 & <b>"
    assert plain_text(text, 200) == "Salsa I love dancing on1 on2 & <b>"


def test_plain_text_cuts_on_a_word_boundary():
    text = "Bachata every Friday night at the harbour"
    result = plain_text(text, 20)
    assert result == "Bachata every…"
    assert len(result) <= 20


@pytest.mark.parametrize("limit", range(1, 45))
def test_plain_text_never_exceeds_limit(limit):
    text = "Kizomba, semba and tarraxinha: workshops every weekend"
    result = plain_text(text, limit)
    assert len(result) <= limit
    if len(text) > limit:
        assert result.endswith("…")
        assert text.startswith(result[:-1])
    else:
        assert result == text


def test_plain_text_hard_cuts_one_long_word():
    assert plain_text("a" * 50, 10) == "a" * 9 + "…"


def test_plain_text_short_text_unchanged():
    assert plain_text("Tango  \n nights", 50) == "Tango nights"


def test_plain_text_rejects_zero_limit():
    with pytest.raises(ValueError):
        plain_text("x", 0)
