"""`.env` as OpenClaw reads it: a pure parser over text, and removal of named assignments keeping every other byte.

OpenClaw loads `~/.openclaw/.env` with the `dotenv` package's `parse`
(src/infra/dotenv-global-core.ts), so the value a key has is dotenv's, not
the line's tail: `KEY=v # note` is `v`, `KEY=a#b` is `a`, quotes ('"`) are
removed, a double-quoted value has `\\n` and `\\r` expanded, a quoted value
may span lines, `export KEY=` and `KEY: value` are assignments, and the last
assignment of a name wins. The pattern below is dotenv's line rule with
JavaScript's `\\s`, `^`, `$` and `.` spelled out, because Python's differ
(JavaScript counts U+FEFF as space and U+2028/U+2029 as line ends). OpenClaw
then drops keys that are not portable names, and skips a file over 1 MiB.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

MAX_BYTES = 1024 * 1024
"""OpenClaw's MAX_DOTENV_FILE_BYTES: a larger `.env` is not loaded at all."""
_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
"""JavaScript's `\\s` and what its `trim()` removes."""
_EOL = "\n\r\u2028\u2029"
"""JavaScript's line terminators, where `^` and `$` match in multiline mode and `.` stops."""
_S = f"[{_SPACE}]"
_H = f"[{''.join(c for c in _SPACE if c not in _EOL)}]"
"""Space within a line. dotenv's pattern starts `^\\s*`, which crosses blank lines: from every line start of a
run of them it rescanned the rest of the run (a megabyte of newlines took hours); a match that starts at the
last line start instead finds the same assignment, whose span parse() takes from its first character anyway."""
_LINE = re.compile(
    f"(?:\\A|(?<=[{_EOL}])){_H}*(?:export{_S}+)?(?P<name>[A-Za-z0-9_.-]+)(?P<sep>{_S}*={_S}*?|:{_S}+?)"
    f"(?P<value>{_S}*'(?:\\\\'|[^'])*'|{_S}*\"(?:\\\\\"|[^\"])*\"|{_S}*`(?:\\\\`|[^`])*`|[^#\\r\\n]+)?"
    f"{_S}*(?:#[^{_EOL}]*)?(?=[{_EOL}]|\\Z)"
)
_PORTABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BREAK = re.compile(f"[{_EOL}]")


@dataclass(frozen=True)
class Assignment:
    """One `NAME=value` as dotenv reads it; `start`/`end` cover its whole lines in the original text."""

    name: str
    value: str = field(repr=False)
    start: int
    end: int


def _value(raw: str) -> str:
    text = raw.strip(_SPACE)
    quote = text[:1]
    if len(text) >= 2 and quote in "'\"`" and text[-1] == quote:
        text = text[1:-1]
    if quote == '"':
        text = text.replace("\\n", "\n").replace("\\r", "\r")
    return text


def _normalised(text: str) -> tuple[str, list[int]]:
    """dotenv turns CRLF and lone CR into LF before parsing; the offsets of collapsed CRLFs map spans back."""
    collapsed: list[int] = []
    out: list[str] = []
    index = length = 0
    for match in re.finditer("\r\n?", text):
        out.append(text[index : match.start()])
        length += match.start() - index
        if match.group() == "\r\n":
            collapsed.append(length)
        out.append("\n")
        length += 1
        index = match.end()
    out.append(text[index:])
    return "".join(out), collapsed


class _Lines:
    """Where each line of a text starts and ends, from one pass over its line breaks: asking `rfind` and `find`
    for each break character per assignment rescanned the text (a megabyte of `A=` lines took half a minute)."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        self.breaks = [m.start() for m in _BREAK.finditer(text)]

    def start(self, pos: int) -> int:
        before = bisect_left(self.breaks, pos)
        return self.breaks[before - 1] + 1 if before else 0

    def end(self, pos: int) -> int:
        """The end of the line holding `pos`, its line break included."""
        after = bisect_left(self.breaks, pos)
        return self.breaks[after] + 1 if after < len(self.breaks) else self.length


def parse(text: str) -> list[Assignment]:
    """Every assignment dotenv sees, in order, keys OpenClaw keeps only (portable names)."""
    norm, collapsed = _normalised(text)

    def original(pos: int) -> int:
        return pos + bisect_left(collapsed, pos)

    found: list[Assignment] = []
    lines = _Lines(norm)
    for match in _LINE.finditer(norm):
        name = match.group("name")
        if not _PORTABLE.fullmatch(name):
            continue
        first = match.start() + len(match.group()) - len(match.group().lstrip(_SPACE))
        last = match.end("value") if match.group("value") is not None else match.end("sep")
        start, end = lines.start(first), lines.end(last - 1)
        found.append(Assignment(name, _value(match.group("value") or ""), original(start), original(end)))
    return found


def values(text: str) -> dict[str, str]:
    """What OpenClaw gets from the file: the last assignment of each name."""
    return {a.name: a.value for a in parse(text)}


def without(text: str, names: set[str]) -> str:
    """The text with every assignment of these names removed, line by line; every other byte stays."""
    spans = [(a.start, a.end) for a in parse(text) if a.name in names]
    out: list[str] = []
    index = 0
    for start, end in spans:
        out.append(text[index:start])
        index = max(index, end)
    out.append(text[index:])
    return "".join(out)
