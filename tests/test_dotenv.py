"""`.env` as OpenClaw's dotenv reads it: a table of lines and the value each gives, then the same table checked
against the real `dotenv` package OpenClaw ships, and removal of named assignments keeping every other byte."""

from __future__ import annotations

import json
import subprocess

import pytest

from bridge.openclaw import dotenv
from tests.support.openclaw import TOOLS, OpenClaw

CASES: list[tuple[str, dict[str, str]]] = [
    ("OPENAI_API_KEY=sk-real-123 # personal key\n", {"OPENAI_API_KEY": "sk-real-123"}),
    ("KEY=a#b\n", {"KEY": "a"}),
    ('KEY="a#b" # c\n', {"KEY": "a#b"}),
    ("KEY='a#b'\n", {"KEY": "a#b"}),
    ("KEY=`a#b`\n", {"KEY": "a#b"}),
    ('KEY="line1\\nline2"\n', {"KEY": "line1\nline2"}),
    ("KEY='line1\\nline2'\n", {"KEY": "line1\\nline2"}),
    ('KEY="a\\rb\\tc"\n', {"KEY": "a\rb\\tc"}),
    ("export KEY=v\n", {"KEY": "v"}),
    ("export   KEY = v \n", {"KEY": "v"}),
    ("KEY=\n", {"KEY": ""}),
    ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
    ("A=1\rB=2\r", {"A": "1", "B": "2"}),
    ('K="multi\nline\nvalue"\nB=2\n', {"K": "multi\nline\nvalue", "B": "2"}),
    ("K='multi\r\nline'\r\nB=2\r\n", {"K": "multi\nline", "B": "2"}),
    ("A=1\nA=2\n", {"A": "2"}),
    ("A: yaml\n", {"A": "yaml"}),
    ('A="unterminated\nB=2\n', {"A": '"unterminated', "B": "2"}),
    ('A="esc \\" quote"\n', {"A": 'esc \\" quote'}),
    ("  A = spaced  \n", {"A": "spaced"}),
    ('A=\n"quoted-next"\n', {"A": "quoted-next"}),
    ("\ufeffA=bom\n", {"A": "bom"}),
    ("A.B=1\nA-B=2\nC=3\n", {"C": "3"}),
    ("A='a' 'b'\n", {"A": "a' 'b"}),
    ("A= ' padded '\n", {"A": " padded "}),
    ("AUTH_HEADER=Bearer sk-real-123\n", {"AUTH_HEADER": "Bearer sk-real-123"}),
    ("A=1\u2028B=2\n", {"A": "1\u2028B=2"}),
    ('A=""\n', {"A": ""}),
    ("export\nA=1\n", {"A": "1"}),
    ("=x\nA=1\n", {"A": "1"}),
    ('A="open\nB=\'x\'\nC="close"\n', {"A": '"open', "B": "x", "C": "close"}),
    ("A=b=c\n", {"A": "b=c"}),
    ("# c\n\nA=1\n\n\nB=2", {"A": "1", "B": "2"}),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_values_are_what_dotenv_gives(text: str, expected: dict[str, str]) -> None:
    assert dotenv.values(text) == expected


def test_the_table_matches_the_dotenv_package_openclaw_ships(openclaw: OpenClaw) -> None:
    package = TOOLS / "openclaw" / "node_modules" / "dotenv"
    script = (
        f"const d=require({json.dumps(str(package))});const P=/^[A-Za-z_][A-Za-z0-9_]*$/;"
        "const c=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "console.log(JSON.stringify(c.map(t=>Object.fromEntries(Object.entries(d.parse(t)).filter(([k])=>P.test(k))))))"
    )
    texts = [text for text, _ in CASES]
    done = subprocess.run([str(openclaw.node), "-e", script], input=json.dumps(texts), capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [dotenv.values(text) for text in texts]


@pytest.mark.parametrize(
    ("text", "names", "kept"),
    [
        ("# keys\r\nA=1\nexport B = '2'\r\nC=\"3\"\nA_NOT=1x\n\nD=4", {"B", "C", "D"}, "# keys\r\nA=1\nA_NOT=1x\n\n"),
        ('K="multi\nline"\n# note\nB=2\n', {"K"}, "# note\nB=2\n"),
        ("A=1 \n# comment after\nB=2\n", {"A"}, "# comment after\nB=2\n"),
        ("A=\n\nB=2\n", {"A"}, "\nB=2\n"),
        ("A=1\nX=y\nA=2\n", {"A"}, "X=y\n"),
        ("OPENAI_API_KEY=sk # personal\r\nOTHER=1", {"OPENAI_API_KEY"}, "OTHER=1"),
        ("A=1", {"B"}, "A=1"),
    ],
)
def test_removal_takes_whole_assignments_by_name_and_keeps_every_other_byte(text: str, names: set[str], kept: str) -> None:
    assert dotenv.without(text, names) == kept
    assert {n: v for n, v in dotenv.values(text).items() if n not in names} == dotenv.values(kept)


def test_an_assignment_never_shows_its_value_in_a_repr() -> None:
    assert "sk-hidden" not in repr(dotenv.parse("A=sk-hidden\n"))
