"""WebVTT caption files: checked line by line before they are stored and served as ``<track>``.

A small parser of the format's structure (header, blocks, cue timings) rather than a library:
the caption libraries on the package index parse leniently and name no line, and a refusal
should say which line is wrong.
"""

from __future__ import annotations

import re

from .media_errors import VideoRefused

MAX_CAPTION_BYTES = 512 * 1024
_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t]+.*)?$")
HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
OTHER_BLOCKS = ("NOTE", "STYLE", "REGION")


def _seconds(hours, minutes, seconds, millis) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _refuse(problem: str) -> VideoRefused:
    return VideoRefused(f"The caption file is not valid WebVTT: {problem}.", 400)


def check_webvtt(data: bytes) -> str:
    """The text of a valid WebVTT file (UTF-8, ``WEBVTT`` first, each cue's timing well
    formed and not ending before it starts), line endings made ``\\n``. VideoRefused (400, or
    413 past MAX_CAPTION_BYTES) naming the problem and its line otherwise."""
    if len(data) > MAX_CAPTION_BYTES:
        raise VideoRefused(f"The caption file is too large: the limit is "
                           f"{MAX_CAPTION_BYTES // 1024} KB.", 413)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise _refuse("save it as UTF-8 text") from None
    if "\x00" in text:
        raise _refuse("it holds a NUL character")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not HEADER.match(lines[0]):
        raise _refuse("the first line must be WEBVTT")
    cues, number = 0, 1
    while number < len(lines):
        if not lines[number].strip():
            number += 1
            continue
        start = number  # a block: lines up to the next blank line
        while number < len(lines) and lines[number].strip():
            number += 1
        cues += _check_block(lines[start:number], start + 1)
    if cues == 0:
        raise _refuse("it holds no captions")
    return "\n".join(lines)


def _check_block(block: list[str], first_line: int) -> int:
    """1 for a well-formed cue, 0 for a note, style or region block; VideoRefused else."""
    if block[0].split(" ", 1)[0].split("\t", 1)[0] in OTHER_BLOCKS and "-->" not in block[0]:
        return 0
    timing_at = 0 if "-->" in block[0] else 1  # a cue may start with its identifier
    if timing_at >= len(block) or "-->" not in block[timing_at]:
        raise _refuse(f"line {first_line + timing_at} should be a cue timing "
                      "such as 00:00:01.000 --> 00:00:04.000")
    line = first_line + timing_at
    match = TIMING.match(block[timing_at])
    if not match:
        raise _refuse(f"line {line} has a malformed cue timing (write 00:00:01.000 "
                      "--> 00:00:04.000)")
    groups = match.groups()
    if _seconds(*groups[4:8]) < _seconds(*groups[:4]):
        raise _refuse(f"the cue on line {line} ends before it starts")
    if any("-->" in text for text in block[timing_at + 1:]):
        raise _refuse(f"the cue on line {line} is followed by another timing without a "
                      "blank line between them")
    return 1
