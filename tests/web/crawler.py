"""A small same-origin crawler for the web tests: the demo community, links, forms, 5xx causes.

The crawl and form fuzz tests (security checklist item 45) share it. Pages are parsed with the
standard library's ``html.parser``; requests go through Flask's test client, which raises a
view's exception instead of answering 500 (the exception is recorded with the line that raised
it), while database errors the app turns into a 500 page are recorded with the logged cause.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote_from_bytes, quote_plus, urldefrag, urlencode, urljoin, urlsplit

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartEncoder, Preamble

from idance_web import create_app
from idance_web.demo import DEMO_PASSWORD, load_demo
from tests.fixtures.app import make_config
from tests.fixtures.auth import AuthActions
from tests.fixtures.template import migrate

ORIGIN = "http://localhost"
PROJECT = Path(__file__).resolve().parents[2]
# Values a browser never submits for these input types.
BUTTONS = {"submit", "button", "reset", "image"}
TEXT_INPUTS = {"text", "search", "email", "url", "tel", "number", "date", "time",
               "datetime-local", "month", "week", "password", "hidden"}
EMPTY_FILE = object()  # a file input with nothing chosen: an empty part with ``filename=""``


# -- the demo community ---------------------------------------------------------------------------

@contextmanager
def demo_app(tmp_path_factory, **config):
    """An app on a fresh ``mem://`` database holding the demo community (about 3 s to load)."""
    media = tmp_path_factory.mktemp("media")
    app = create_app(make_config(media_root=str(media), **config))
    db = app.extensions["idance.db"]
    migrate(db)
    load_demo(db, app.config["IDANCE"])
    try:
        yield app
    finally:
        db.close()


def signed_in(app, email: str | None):
    """A test client signed in as the demo member with ``email`` (a visitor's for None)."""
    client = app.test_client()
    if email is not None:
        response = AuthActions(client).login(email=email, password=DEMO_PASSWORD)
        assert response.status_code == 302, f"{email} could not sign in"
    return client


# -- pages --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormField:
    """One named control: what a browser submits for it unless someone changes it."""

    name: str
    kind: str  # an input's type, "select", "select-multiple" or "textarea"
    defaults: tuple[str, ...]  # the values submitted as is (none for an unchecked box)
    options: tuple[str, ...] = ()  # a select's option values


@dataclass
class Form:
    method: str
    action: str  # path and query, resolved against the page
    multipart: bool
    page: str  # where it was found
    fields: list[FormField] = field(default_factory=list)

    def pairs(self, changes: dict[str, list] | None = None) -> list[tuple[str, object]]:
        """(name, value) in document order as a browser sends them; ``changes`` replaces the
        values of a field (a list, so a field can be sent twice or not at all)."""
        changes = changes or {}
        out, done = [], set()
        for f in self.fields:
            if f.name in changes:
                if f.name not in done:
                    out += [(f.name, v) for v in changes[f.name]]
                    done.add(f.name)
                continue
            out += [(f.name, v) for v in f.defaults]
        return out

    def url(self, changes: dict[str, list] | None = None) -> str:
        """The URL a GET form navigates to."""
        query = urlencode([(n, v) for n, v in self.pairs(changes) if isinstance(v, str)])
        return urlsplit(self.action).path + ("?" + query if query else "")


class PageParser(HTMLParser):
    """Links (``<a href>``), embedded resources (``img``/``source`` ``src``) and forms."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.resources: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None
        self._radios: dict[str, list] = {}

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("img", "source") and a.get("src"):
            self.resources.append(a["src"])
        elif tag == "form":
            self._form = Form(method=(a.get("method") or "get").lower(),
                              action=urljoin(self.page, a.get("action") or self.page),
                              multipart=a.get("enctype") == "multipart/form-data",
                              page=self.page)
            self.forms.append(self._form)
            self._radios = {}
        elif tag == "option":
            if self._option is not None:  # the end tag of an option is optional
                self._close_option()
            if self._select is not None and "disabled" not in a:
                self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif self._form is None or "disabled" in a or not a.get("name"):
            return  # a control outside a form, disabled or unnamed is never submitted
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in BUTTONS:
                return
            if kind == "file":
                self._add(FormField(a["name"], kind, (EMPTY_FILE,)))
            elif kind in ("checkbox", "radio"):
                value = a.get("value", "on")
                if kind == "radio":
                    self._radios.setdefault(a["name"], []).append(value)
                self._add(FormField(a["name"], kind, (value,) if "checked" in a else (),
                                    (value,)))
            else:
                self._add(FormField(a["name"], kind, (a.get("value", ""),)))
        elif tag == "select":
            self._select = {"name": a["name"], "multiple": "multiple" in a, "options": []}
        elif tag == "textarea":
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            self._close_option()
        elif tag == "select" and self._select is not None:
            if self._option is not None:
                self._close_option()
            s, self._select = self._select, None
            values = tuple(o["value"] for o in s["options"])
            chosen = tuple(o["value"] for o in s["options"] if o["selected"])
            if not chosen and not s["multiple"] and values:
                chosen = values[:1]
            self._add(FormField(s["name"], "select-multiple" if s["multiple"] else "select",
                                chosen if s["multiple"] else chosen[-1:], values))
        elif tag == "textarea" and self._textarea is not None:
            t, self._textarea = self._textarea, None
            # A browser drops the one line feed that follows <textarea>.
            self._add(FormField(t["name"], "textarea", (t["text"].removeprefix("\n"),)))
        elif tag == "form":
            self._form = None

    def _close_option(self):
        o, self._option = self._option, None
        value = o["value"] if o["value"] is not None else o["text"].strip()
        self._select["options"].append({"value": value, "selected": o["selected"]})

    def _add(self, f: FormField):
        if self._form is not None:
            self._form.fields.append(f)


def same_origin_path(base: str, href: str) -> str | None:
    """``href`` as a path and query on this site (no fragment), or None if it leaves it."""
    url = urldefrag(urljoin(ORIGIN + base, href.strip()))[0]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(ORIGIN).netloc:
        return None
    return parts.path + ("?" + parts.query if parts.query else "")


# -- requests -------------------------------------------------------------------------------------

class _Logged(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextmanager
def logged_errors() -> Iterator[list[str]]:
    """The error messages the app logs meanwhile (a database error's 500 names its cause)."""
    handler = _Logged()
    logger = logging.getLogger("idance")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def cause(exc: BaseException) -> str:
    """``Type: message (file:line)`` with the innermost line of the project that raised it."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename).resolve()
        if PROJECT in path.parents and "tests" not in path.relative_to(PROJECT).parts:
            where = f" ({path.relative_to(PROJECT)}:{frame.lineno})"
    return f"{type(exc).__name__}: {exc}{where}"


def request(client, method: str, path: str, **kw) -> tuple[int, object, str]:
    """(status, response or None, cause of a 5xx); a view's exception counts as a 500."""
    with logged_errors() as logged:
        try:
            response = client.open(path, method=method, **kw)
        except Exception as exc:  # the test client re-raises what a view raised
            return 500, None, cause(exc)
    why = "; ".join(logged) if response.status_code >= 500 else ""
    return response.status_code, response, why


def _quoted(value: str | bytes) -> str:
    return quote_from_bytes(value) if isinstance(value, bytes) else quote_plus(value)


def encode(pairs: Iterable[tuple[str, object]], multipart: bool) -> tuple[bytes, str]:
    """A form body as a browser sends it. ``bytes`` values go on the wire as they are (a lone
    surrogate cannot be a ``str`` the test client encodes); ``EMPTY_FILE`` is a file input
    with nothing chosen."""
    pairs = list(pairs)
    if not multipart:
        body = "&".join(f"{quote_plus(name)}={_quoted(v)}" for name, v in pairs)
        return body.encode("ascii"), "application/x-www-form-urlencoded"
    boundary = b"----crawl-form-boundary-7MA4YWxk"
    encoder = MultipartEncoder(boundary)
    out = [encoder.send_event(Preamble(data=b""))]
    for name, v in pairs:
        if v is EMPTY_FILE:
            out.append(encoder.send_event(File(name=name, filename="", headers=Headers(
                [("Content-Type", "application/octet-stream")]))))
            v = b""
        else:
            out.append(encoder.send_event(Field(name=name, headers=Headers())))
        data = v if isinstance(v, bytes) else v.encode()
        out.append(encoder.send_event(Data(data=data, more_data=False)))
    out.append(encoder.send_event(Epilogue(data=b"")))
    return b"".join(out), f"multipart/form-data; boundary={boundary.decode()}"


# -- the crawl ------------------------------------------------------------------------------------

@dataclass
class Crawl:
    """What a crawl saw: each request's status, 5xx failures, the POST forms of its pages."""

    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    endpoints: Counter = field(default_factory=Counter)
    post_forms: list[Form] = field(default_factory=list)


def route_of(app, path: str, method: str = "GET") -> tuple[str, str]:
    """(endpoint, rule) that ``path`` reaches; ("unknown", "") when none does."""
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(urlsplit(path).path, method=method, return_rule=True)
    except RequestRedirect:
        return "redirect", ""
    except HTTPException:
        return "unknown", ""
    return rule.endpoint, rule.rule


def get_form_urls(form: Form) -> list[str]:
    """A GET form submitted with its defaults, then once with each option of each select."""
    urls = [form.url()]
    for f in form.fields:
        if f.kind == "select":
            urls += [form.url({f.name: [o]}) for o in f.options]
    return urls


def crawl(app, client, starts: Iterable[str], max_pages: int = 600,
          per_route: int = 25) -> Crawl:
    """Breadth-first over same-origin links, redirects and GET forms from ``starts``.

    At most ``per_route`` URLs of one route are requested (64 demo sites are alike) and
    ``max_pages`` in all. ``/media/`` and ``/static/`` files are HEAD-checked, not parsed.
    """
    result, per_rule = Crawl(), Counter()
    queue = deque(starts)
    seen = set(queue)

    def enqueue(base: str, href: str):
        path = same_origin_path(base, href)
        if path is not None and path not in seen:
            seen.add(path)
            queue.append(path)

    while queue and len(result.statuses) < max_pages:
        path = queue.popleft()
        endpoint, rule = route_of(app, path)
        if per_rule[rule] >= per_route:
            continue
        per_rule[rule] += 1
        result.endpoints[endpoint] += 1
        method = "HEAD" if path.startswith(("/media/", "/static/")) else "GET"
        status, response, why = request(client, method, path)
        result.statuses[path] = status
        if status >= 500:
            result.failures.append(f"{method} {path} → {status} {why}".rstrip())
            continue
        if response is None:
            continue
        try:
            if 300 <= status < 400 and response.location:
                enqueue(path, response.location)
            elif status == 200 and response.mimetype == "text/html":
                page = PageParser(path)
                page.feed(response.get_data(as_text=True))
                for href in page.links + page.resources:
                    enqueue(path, href)
                for form in page.forms:
                    if form.method == "get":
                        for url in get_form_urls(form):
                            enqueue(path, url)
                    else:
                        result.post_forms.append(form)
        finally:
            response.close()  # a streamed file (a vlog's media) stays open until closed
    return result


def report(failures: list[str], limit: int = 40) -> str:
    """Failures as a readable list (the first ``limit``)."""
    more = f"\n… and {len(failures) - limit} more" if len(failures) > limit else ""
    return f"{len(failures)} failed:\n" + "\n".join(failures[:limit]) + more
