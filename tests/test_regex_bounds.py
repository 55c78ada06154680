"""No pattern over user input can backtrack: every regular expression of the bridge, and every shape check,
redaction and provider test built on them, finishes on crafted inputs of 1 MiB within admin_deadline.

Each check runs in a forked child and the test asserts that its result arrives within the deadline: a pattern
that backtracks (the PEM pattern was cubic: a header and 6,000 spaces held `secrets test` past a minute) holds
the interpreter lock in C, where no thread can stop it, so only another process can wait for it. The figures,
as a ratio of 1 MiB to 64 KiB per pattern, are in benchmarks/regex_linear.py.
"""

from __future__ import annotations

import importlib
import inspect
import json
import multiprocessing
import pkgutil
import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

import pytest

import bridge
from bridge.local.config import Config

pytestmark = pytest.mark.unit

MIB = 1024 * 1024
DEADLINE_S = Config().admin_deadline
"""The default admin_deadline: the whole of a `secrets test`, or of any admin command's own work."""
UNITS = (
    "a", "A", "1", " ", ".", "-", "a.", "-a", "aA", "a@", "@a.", "a b", "eyJ", "eyJa.", "${a", "sk-", "%4", "<Code>",
    "'", '"', "\\", "A=", "A='", "=", "#", "\r", "\n", "-----BEGIN PRIVATE KEY-----", " PRIVATE KEY-----", "-----END ",
)
"""What adversarial input is made of: each repeated to 1 MiB, then ended by a character that spoils a match."""


def crafted(unit: str, size: int = MIB) -> Iterator[str]:
    body = unit * (size // len(unit))
    yield body
    yield body + "!"


DONE = "done"


def outcome_within(seconds: float, call: Callable[[], object]) -> str:
    """DONE when `call()` returns within `seconds`; else what it raised, or that it was still running and was
    killed. It runs in a forked child: a pattern stuck in C holds the interpreter lock, so no thread could stop it."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)

    def child() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as the outcome
            writer.send(f"raised {exc!r}")
        else:
            writer.send(DONE)

    process = context.Process(target=child, daemon=True)
    process.start()
    try:
        return str(reader.recv()) if reader.poll(seconds) else f"still running after {seconds:g}s"
    finally:
        process.kill()
        process.join()


SCANNING = re.compile(r"\b(_?[A-Z][A-Z0-9_]*)\.(search|sub|subn|finditer|findall|split)\(")
"""How a module uses a pattern to scan text (rather than to match the whole of it): its source says so."""


class Found(NamedTuple):
    pattern: re.Pattern[str]
    scans: bool
    """Used to scan text (search, sub, finditer...), so tried at every position: checked that way too."""


def every_pattern() -> dict[str, Found]:
    """Every compiled pattern a module of the bridge keeps, by `module.NAME`, and whether the module scans with it."""
    found: dict[str, Found] = {}
    for module_info in pkgutil.walk_packages(bridge.__path__, "bridge."):
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        scanned = {m.group(1) for m in SCANNING.finditer(inspect.getsource(module))}
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str) and getattr(module, name) is value:
                found.setdefault(f"{module.__name__}.{name}", Found(value, name in scanned))
    return found


PATTERNS = every_pattern()


def test_the_sweep_sees_the_patterns_it_must() -> None:
    for expected in ("bridge.core.secret_types._PEM_LABEL", "bridge.core.keys.KEY_SHAPES", "bridge.openclaw.dotenv._LINE",
                     "bridge.core.durations._DURATION", "bridge.core.secret_types._FRAGMENT"):
        assert expected in PATTERNS
    assert PATTERNS["bridge.openclaw.dotenv._LINE"].scans and not PATTERNS["bridge.core.durations._DURATION"].scans
    assert len(PATTERNS) >= 30


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_pattern_is_linear_on_crafted_mebibytes(name: str) -> None:
    """A whole-text match for every pattern; a scan (search and every match) for each one a module scans with."""
    pattern, scans = PATTERNS[name]

    def battery() -> None:
        for unit in UNITS:
            for text in crafted(unit):
                pattern.fullmatch(text)
                if scans:
                    for _ in pattern.finditer(text):
                        pass

    assert outcome_within(DEADLINE_S, battery) == DONE, f"{name} ({pattern.pattern[:60]}) did not finish within {DEADLINE_S:g}s"


@pytest.mark.parametrize("built", ["xml field", "tenant id", "crlf"])
def test_patterns_built_where_they_are_used_are_linear_too(built: str) -> None:
    from bridge.core.secret_types import _DOMAIN, _GUID
    from bridge.providers.answers import xml_field

    def battery() -> None:
        for unit in UNITS:
            for text in crafted(unit):
                if built == "xml field":
                    xml_field(text, "Code")
                elif built == "tenant id":
                    re.compile(f"{_GUID.pattern}|{_DOMAIN.pattern}").fullmatch(text)
                else:
                    for _ in re.finditer("\r\n?", text):
                        pass

    assert outcome_within(DEADLINE_S, battery) == DONE


# --- the checks built on them ------------------------------------------------------------------------------------


def test_the_pem_header_and_spaces_from_the_issue_is_tested_within_the_deadline() -> None:
    """A 6 KB aws value with one extra field, a PEM header and 6,000 spaces: accepted, then tested at once."""
    from bridge.providers.check import test_secret
    from tests.support.provider_fakes import closed_port_url

    value = json.dumps({
        "access_key_id": "AKIA" + "Q" * 16, "secret_access_key": "a" * 40,
        "note": "-----BEGIN PRIVATE KEY-----" + " " * 6000,
    })
    url = closed_port_url()

    def check() -> None:
        result = test_secret("aws", value, url, 5.0)
        assert result.status == "unreachable"

    assert outcome_within(DEADLINE_S, check) == DONE


def _field_inputs() -> Iterator[tuple[str, str]]:
    from bridge.core.secret_types import _FIELD_RULES

    for secret_type, rules in _FIELD_RULES.items():
        for field, _required, _rule in rules:
            yield secret_type, field


@pytest.mark.parametrize(("secret_type", "field"), list(_field_inputs()))
def test_every_field_rule_finishes_on_crafted_mebibytes(secret_type: str, field: str) -> None:
    from bridge.core.secret_types import _FIELD_RULES

    (rule,) = [r for f, _required, r in _FIELD_RULES[secret_type] if f == field]

    def battery() -> None:
        for unit in UNITS:
            for text in crafted(unit):
                rule(text)

    assert outcome_within(DEADLINE_S, battery) == DONE


@pytest.mark.parametrize("secret_type", ["openai", "anthropic", "gemini", "openrouter", "gcp-service-account", "aws", "azure", "generic"])
def test_every_shape_check_finishes_on_a_crafted_mebibyte(secret_type: str) -> None:
    from bridge.core.secret_types import shape_problem

    def battery() -> None:
        for unit in ("sk-", "A", "-----BEGIN PRIVATE KEY-----" + " " * 64, '{"a":"', "[" ):
            for text in crafted(unit):
                shape_problem(secret_type, text)
                shape_problem(secret_type, "sk-" + text)
        for text in crafted("a."):
            shape_problem(secret_type, json.dumps({"client_email": "a@" + text, "private_key": text, "tenant_id": text,
                                                   "region": "us" + text, "session_token": text}))

    assert outcome_within(DEADLINE_S, battery) == DONE


def test_redaction_finishes_with_a_mebibyte_value_and_a_crafted_answer() -> None:
    from bridge.core.keys import redact_shapes, scrub
    from bridge.core.secret_types import MAX_REDACT_CHARS, one_line, secret_parts

    def battery() -> None:
        for unit in ("a", "eyJa."):
            value = next(crafted(unit))
            parts = secret_parts("generic", value)
            for answer_unit in ("a", "aA", "eyJ", "a b", "*a"):
                answer = next(crafted(answer_unit, MAX_REDACT_CHARS))
                one_line(answer, parts)
            redact_shapes(value)
            scrub(value, value[:64])
        doc = json.dumps({"k": [f"s{i:07d}" for i in range(5000)]})
        one_line(" ".join(f"s{i:07d}x" for i in range(400)), secret_parts("aws", doc))

    assert outcome_within(DEADLINE_S, battery) == DONE


@pytest.mark.parametrize("secret_type", ["openai", "aws", "gcp-service-account", "azure"])
def test_a_provider_test_of_a_crafted_mebibyte_value_ends_within_the_deadline(secret_type: str) -> None:
    from bridge.providers.check import test_secret
    from tests.support.provider_fakes import closed_port_url

    url = closed_port_url()
    values = {
        "openai": "sk-" + "A" * MIB,
        "aws": json.dumps({"access_key_id": "AKIA" + "Q" * 16, "secret_access_key": "a" * 40, "x": "a." * (MIB // 2)}),
        "gcp-service-account": json.dumps({"type": "service_account", "client_email": "a@" + "a." * 20000 + " "}),
        "azure": json.dumps({"client_id": "0" * 8, "client_secret": "s", "tenant_id": "a." * 30000 + "1"}),
    }

    def check() -> None:
        result = test_secret(secret_type, values[secret_type], url, 5.0)
        assert result.status in ("invalid", "unreachable")

    assert outcome_within(DEADLINE_S, check) == DONE


def test_error_bodies_are_read_in_linear_time() -> None:
    from bridge.providers.answers import error_detail

    def battery() -> None:
        for unit in ("<Code>", "<Code>a", "<", '{"error":', "a"):
            for text in crafted(unit):
                error_detail(text.encode())

    assert outcome_within(DEADLINE_S, battery) == DONE


def test_dotenv_files_are_read_in_linear_time() -> None:
    """`bridge run --env-file` and migrate read `.env` files of up to 1 MiB (OpenClaw's own limit): a megabyte of
    blank lines made dotenv's pattern rescan from every line start, and each assignment rescanned the text for
    its line's ends."""
    from bridge.openclaw.dotenv import parse

    def battery() -> None:
        for unit in ("\n", "\r", "A=\n", "A='\n", " \u2028"):
            parse(next(crafted(unit)))

    assert outcome_within(DEADLINE_S, battery) == DONE


def test_every_step_of_a_provider_test_is_inside_its_deadline() -> None:
    """A step before the call that never ends (here the clock the request is dated by) still ends the test at
    its deadline, as unreachable, naming the deadline: the shape check and the request used to run outside it."""
    import threading

    from bridge.providers.check import test_secret
    from tests.support.provider_fakes import closed_port_url

    url = closed_port_url()

    def check() -> None:
        never = threading.Event()
        result = test_secret("openai", "sk-" + "A" * 40, url, 0.5, now=lambda: float(never.wait()))
        assert (result.status, result.message) == ("unreachable", "testing the OpenAI secret did not finish within 500 ms"), result

    assert outcome_within(DEADLINE_S, check) == DONE
