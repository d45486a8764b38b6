"""Files stay small: no module of the app passes 400 lines, no function 80.

A module that grows past that does two things, and a function that long hides its steps: split
them by what they do. A function is measured from its ``def`` to its last line (docstring and
nested functions included, decorators not).
"""

from __future__ import annotations

import ast
from pathlib import Path

import idance_web

ROOT = Path(idance_web.__file__).parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def function_lengths(source: str) -> dict[str, int]:
    """``name:line`` → length in lines, for every function and method in ``source``."""
    return {f"{node.name}:{node.lineno}": node.end_lineno - node.lineno + 1
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _sources() -> dict[str, str]:
    return {str(path.relative_to(ROOT.parent)): path.read_text(encoding="utf-8")
            for path in sorted(ROOT.rglob("*.py"))}


def test_the_measure_counts_a_long_function():
    source = "def short():\n    pass\n\n\ndef long():\n" + "    x = 1\n" * 90
    assert function_lengths(source) == {"short:1": 2, "long:5": 91}


def test_no_module_passes_400_lines():
    sources = _sources()
    assert len(sources) > 30
    too_long = {name: len(text.splitlines()) for name, text in sources.items()
                if len(text.splitlines()) > MAX_MODULE_LINES}
    assert too_long == {}, f"split these modules by what they do: {too_long}"


def test_no_function_passes_80_lines():
    too_long = {f"{name}:{function}": length
                for name, text in _sources().items()
                for function, length in function_lengths(text).items()
                if length > MAX_FUNCTION_LINES}
    assert too_long == {}, f"split these functions into steps: {too_long}"
