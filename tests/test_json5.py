"""The JSON5 reader used on openclaw.json: what people write by hand, and refusing what it cannot read."""

from __future__ import annotations

import math
import re

import pytest

from bridge.openclaw import json5


def test_hand_written_config() -> None:
    text = """
    // OpenClaw config
    {
      secrets: { providers: { 'supabase': { command: "/a/b", args: ['resolve',], timeoutMs: 5_0, }, }, },
      /* block
         comment */
      n: [0x1F, .5, 5., +3, -Infinity, 1e3, true, false, null],
      "quoted key": 'it\\'s',
      multi: "a\\
b",
      u: "\\u00e9\\x41",
    }
    """.replace("5_0", "50")
    doc = json5.loads(text)
    assert isinstance(doc, dict)
    assert doc["secrets"]["providers"]["supabase"] == {"command": "/a/b", "args": ["resolve"], "timeoutMs": 50}
    assert doc["n"][:4] == [31, 0.5, 5.0, 3] and doc["n"][4] == -math.inf and doc["n"][5:] == [1000.0, True, False, None]
    assert doc["quoted key"] == "it's" and doc["multi"] == "ab" and doc["u"] == "éA"


def test_plain_json_round_trips() -> None:
    doc = {"a": [1, 2.5, "x", None, {"b": True}]}
    assert json5.loads(json5.dumps(doc)) == doc


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("{ models: { broken ", "unexpected end of input at line 1, column 20"),
        ("{a: 1}\n{b: 2}", 'unexpected "{" at line 2, column 1'),
        ("{a: 'unterminated}", "at line 1, column 19"),
        ("{a: 1 /* never closed", "at line 1, column 22"),
        ("{1a: 2}", 'unexpected "a" at line 1, column 3'),
        ("{a: tru}", "at line 1, column 8"),
        ("", "empty"),
        ("[" * 50_000 + "]" * 50_000, "nested deeper than 100 levels"),
        ("[" * 101 + "]" * 101, "nested deeper than 100 levels"),
    ],
)
def test_errors_name_the_place(text: str, where: str) -> None:
    with pytest.raises(json5.JSON5Error, match=re.escape(where)):
        json5.loads(text)
