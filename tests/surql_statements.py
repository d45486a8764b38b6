"""Finding the statements in SurrealQL text, nested ones and their ``WHERE`` clauses included
(for the ``EXPLAIN`` test of every query the app can send)."""

from __future__ import annotations

import re

STATEMENT = re.compile(r"(?<![\w$.:])(SELECT|UPDATE|DELETE|UPSERT)(?![\w])")
CLAUSE_END = re.compile(r"(?<![\w$.:])(RETURN|TIMEOUT|PARALLEL|EXPLAIN)(?![\w])")
OPEN, CLOSE = "([{", ")]}"


def _skip(text: str, i: int) -> int:
    """The index after the string, comment or quoted identifier starting at ``i`` (or ``i``)."""
    c = text[i]
    if c in "'\"`":
        j = i + 1
        while j < len(text) and text[j] != c:
            j += 2 if text[j] == "\\" else 1
        return j + 1
    if c == "⟨":
        return text.index("⟩", i) + 1
    if text.startswith("--", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        return text.index("*/", i) + 2
    return i


def _top_level(text: str):
    """(index, depth) of every character outside strings and comments."""
    depth, i = 0, 0
    while i < len(text):
        j = _skip(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c in CLOSE:
            depth -= 1
        yield i, depth
        if c in OPEN:
            depth += 1
        i += 1


def statements(text: str) -> list[tuple[str, str]]:
    """(keyword, statement text) of every SELECT/UPDATE/DELETE/UPSERT in ``text``, nested ones
    included, each cut where its statement or its enclosing bracket ends."""
    chars = list(_top_level(text))
    found = []
    for n, (i, depth) in enumerate(chars):
        m = STATEMENT.match(text, i)
        if not m or (i and (text[i - 1].isalnum() or text[i - 1] in "_$.:")):
            continue
        if re.search(r"\b(KEY|FOR)\s+$", text[max(0, i - 8):i]):
            continue  # ON DUPLICATE KEY UPDATE; FOR select/update in permission lists
        end = len(text)
        for j, d in chars[n + 1:]:
            if d < depth or (d == depth and text[j] == ";"):
                end = j
                break
        found.append((m.group(1), text[i:end].strip()))
    return found


def _where(body: str) -> str:
    """The ``WHERE …`` clause at the top level of ``body`` (empty if none)."""
    start = None
    for i, depth in _top_level(body):
        if depth:
            continue
        if start is None and re.match(r"WHERE\b", body[i:]) and body[i - 1].isspace():
            start = i
        elif start is not None and CLAUSE_END.match(body, i) and body[i - 1].isspace():
            return body[start:i].strip()
    return body[start:].strip() if start is not None else ""


def probe(keyword: str, statement: str) -> str | None:
    """The ``… EXPLAIN`` statement that shows how ``statement`` finds its rows (None: it names
    its records, so it iterates no table)."""
    if keyword == "SELECT":
        if re.search(r"\bEXPLAIN\s*$", statement):
            return statement
        return re.sub(r"\bFROM\s+ONLY\b", "FROM", statement) + " EXPLAIN"
    m = re.match(rf"{keyword}\s+(?:ONLY\s+)?(?:FROM\s+)?([A-Za-z_]\w*)(?![\w:(])", statement)
    if not m or m.group(1) in ("ONLY", "FROM"):
        return None
    return f"SELECT * FROM {m.group(1)} {_where(statement[m.end():])} EXPLAIN"
