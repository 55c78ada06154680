"""Every help is right: action names as people type them, every `example:` line parses, and every duration option
refuses what it cannot hold with a usage line and exit 2, never an internal error.

The examples are read from the parsers themselves, so a new verb or action is covered when it is added. Each
example runs with `--help` added (which exits 0 only when the verb and action path and every option before it
parse); those that need no database run as they are, in an empty home.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge import __version__
from bridge.cli import main
from bridge.cli.registry import build_parser
from tests.support.bridge_proc import run_bridge

SHELL_SEPARATORS = {"|", "||", "&&", ";"}
RUN_AS_IS = {("logout",), ("cache", "status")}
"""Examples that touch only the bridge's own files: run whole in an empty home, they must succeed."""


def parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, (*path, name))


def example_commands(epilog: str) -> Iterator[list[str]]:
    """Each `bridge ...` command of an epilog's example lines, without the shell around it (pipes, `&&`, `;`,
    `< file`, comments)."""
    for line in epilog.splitlines()[1:]:
        lexer = shlex.shlex(line.strip(), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        command: list[str] = []
        for word in [*words, ";"]:
            if word in SHELL_SEPARATORS:
                if command and command[0] == "bridge":
                    yield command[1:]
                command = []
            else:
                command.append(word)
        for i, word in enumerate(command):
            assert word != "<" or i + 1 < len(command), line


def without_redirects(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "<":
            skip = True
        else:
            out.append(word)
    return out


def with_help(argv: list[str]) -> list[str]:
    """`--help` before a `--` (after it, the words belong to the program `bridge run` starts)."""
    return [*argv[: argv.index("--")], "--help", *argv[argv.index("--") :]] if "--" in argv else [*argv, "--help"]


def every_example() -> list[tuple[tuple[str, ...], list[str]]]:
    found: list[tuple[tuple[str, ...], list[str]]] = []
    for path, parser in parsers(build_parser(__version__)):
        assert parser.epilog, f"bridge {' '.join(path)} has no example"
        commands = list(example_commands(parser.epilog))
        assert commands, f"bridge {' '.join(path)}: no `bridge ...` line in its examples"
        found.extend((path, without_redirects(command)) for command in commands)
    return found


EXAMPLES = every_example()


def test_usage_lines_name_actions_as_people_type_them(capsys: pytest.CaptureFixture[str]) -> None:
    for path, parser in parsers(build_parser(__version__)):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) and path:
                assert action.metavar == f"<{'|'.join(action.choices)}>", path
                assert f"<{'|'.join(action.choices)}>" in parser.format_usage()
    with pytest.raises(SystemExit) as done:
        main(["tokens", "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert "<create|ls|revoke>" in shown and "handle_" not in shown


@pytest.mark.parametrize(("path", "argv"), EXAMPLES, ids=[" ".join(argv) for _, argv in EXAMPLES])
def test_every_example_parses(path: tuple[str, ...], argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert argv[: len(path)] == list(path), f"the example of bridge {' '.join(path)} runs another command: {argv}"
    with pytest.raises(SystemExit) as done:
        main(with_help(argv))
    shown = capsys.readouterr()
    assert done.value.code == 0, shown.err
    assert "usage: bridge" in shown.out and "handle_" not in shown.out


@pytest.mark.parametrize("argv", [argv for path, argv in EXAMPLES if path in RUN_AS_IS], ids=" ".join)
def test_examples_that_need_no_database_run_as_they_are(argv: list[str], tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    done = run_bridge(argv, {"HOME": str(home), "BRIDGE_HOME": str(home / "bridge"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


TOO_LONG = "99999999999d"
DURATION_OPTIONS = [
    ["watch", "--interval", TOO_LONG],
    ["audit", "--since", TOO_LONG],
    ["audit", "--alerts", "--since", TOO_LONG],
    ["secrets", "due", "--within", TOO_LONG],
    ["secrets", "set", "X_KEY", "--keep-value", "--rotate-every", TOO_LONG],
    ["secrets", "set", "X_KEY", "--keep-value", "--expires", TOO_LONG],
    ["tokens", "create", "gw-x", "--tenant", "acme", "--expires", TOO_LONG],
]


@pytest.mark.parametrize("argv", DURATION_OPTIONS, ids=" ".join)
def test_a_duration_too_long_is_a_usage_line_naming_the_option(argv: list[str], tmp_path: Path) -> None:
    """No database: the duration is refused before any connection, so the credentials are never needed."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    done = run_bridge(argv, {"HOME": str(home), "BRIDGE_HOME": str(home / "bridge"), "PATH": "/usr/bin:/bin"}, stdin=b"")
    option = next(word for word in argv if word.startswith("--") and word not in ("--keep-value", "--alerts", "--tenant"))
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert option in last and "100 years" in last, done.stderr
    said = [line for line in done.stderr.splitlines() if not line.startswith(("usage:", " "))]
    assert said == [last], "one line saying what was wrong (after argparse's usage synopsis, if any)"


@pytest.mark.parametrize("raw", ["99999999999d", "1e400d", "9" * 400 + "s"])
def test_parse_duration_refuses_what_no_caller_can_hold(raw: str) -> None:
    from bridge.core.durations import MAX_DURATION_S, parse_duration
    from bridge.core.errors import ConfigError

    with pytest.raises(ConfigError):
        parse_duration("admin_deadline", raw)
    assert parse_duration("admin_deadline", "36600d") == MAX_DURATION_S
