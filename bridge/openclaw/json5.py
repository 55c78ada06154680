"""Read JSON5, the format of OpenClaw's openclaw.json: a pure parser over text.

Supports what people write in hand-edited configs: // and /* */ comments,
unquoted keys, single-quoted strings, trailing commas, hex numbers, leading or
trailing decimal points, +/-Infinity and NaN. Anything else is a JSON5Error
naming the line and column, so a file we cannot read is never overwritten.
Nesting is bounded (MAX_DEPTH) while parsing, so neither this parser nor the
recursive walks over its result can exhaust the stack on a hostile file.
"""

from __future__ import annotations

import json
import math
import re

_IDENT_START = re.compile(r"[A-Za-z_$]")
_IDENT = re.compile(r"[A-Za-z0-9_$]*")
_IDENT_PART = re.compile(r"[A-Za-z0-9_$]")
_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F]+|Infinity|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
)
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "0": "\0", "/": "/", "\\": "\\", "'": "'", '"': '"'}


MAX_DEPTH = 100
"""Deeper than any real config; every walk over a parsed document relies on this bound."""


class JSON5Error(ValueError):
    pass


class _Parser:
    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.max_depth = max_depth

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise self.fail(f"nested deeper than {self.max_depth} levels")

    def fail(self, what: str) -> JSON5Error:
        line = self.text.count("\n", 0, self.pos) + 1
        column = self.pos - (self.text.rfind("\n", 0, self.pos) + 1) + 1
        return JSON5Error(f"{what} at line {line}, column {column}")

    def skip(self) -> None:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t\r\n\ufeff\u00a0\u2028\u2029":
                self.pos += 1
            elif self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unterminated comment")
                self.pos = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self) -> object:
        char = self.peek()
        if char in ("{", "["):
            self.enter()
            nested: object = self.obj() if char == "{" else self.array()
            self.depth -= 1
            return nested
        if char and char in "\"'":
            return self.string()
        for word, result in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos) and not _IDENT_PART.match(self.text, self.pos + len(word)):
                self.pos += len(word)
                return result
        match = _NUMBER.match(self.text, self.pos)
        if match and match.group():
            self.pos = match.end()
            return _number(match.group())
        raise self.fail("unexpected character" if char else "unexpected end of file")

    def obj(self) -> dict[str, object]:
        self.pos += 1
        result: dict[str, object] = {}
        while self.peek() != "}":
            key = self.key()
            if self.peek() != ":":
                raise self.fail("expected ':'")
            self.pos += 1
            result[key] = self.value()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                raise self.fail("expected ',' or '}'")
        self.pos += 1
        return result

    def key(self) -> str:
        char = self.peek()
        if char and char in "\"'":
            return self.string()
        if not _IDENT_START.match(char):
            raise self.fail("expected a key")
        match = _IDENT.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()
        return match.group()

    def array(self) -> list[object]:
        self.pos += 1
        result: list[object] = []
        while self.peek() != "]":
            result.append(self.value())
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise self.fail("expected ',' or ']'")
        self.pos += 1
        return result

    def string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.fail("unterminated string")
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char == "\n":
                raise self.fail("newline in string")
            if char != "\\":
                out.append(char)
                continue
            escape = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if escape in _ESCAPES:
                out.append(_ESCAPES[escape])
            elif escape == "\n":
                continue
            elif escape == "u":
                digits = self.text[self.pos : self.pos + 4]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                    raise self.fail("bad \\u escape")
                out.append(chr(int(digits, 16)))
                self.pos += 4
            elif escape == "x":
                digits = self.text[self.pos : self.pos + 2]
                if not re.fullmatch(r"[0-9a-fA-F]{2}", digits):
                    raise self.fail("bad \\x escape")
                out.append(chr(int(digits, 16)))
                self.pos += 2
            else:
                out.append(escape)


def _number(text: str) -> int | float:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body == "Infinity":
        return sign * math.inf
    if body == "NaN":
        return math.nan
    if body[:2] in ("0x", "0X"):
        return sign * int(body, 16)
    if re.fullmatch(r"\d+", body):
        return sign * int(body)
    return sign * float(body)


def loads(text: str, max_depth: int = MAX_DEPTH) -> object:
    parser = _Parser(text, max_depth)
    result = parser.value()
    if parser.peek():
        raise parser.fail("unexpected content after the value")
    return result


def dumps(value: object) -> str:
    """Written back as plain JSON (valid JSON5); comments cannot survive a rewrite, and callers say so."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
