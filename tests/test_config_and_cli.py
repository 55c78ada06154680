"""Settings validation and the command line's last line of defence: one line, no traceback, no secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge import cli
from bridge.core.durations import parse_duration
from bridge.core.errors import BridgeError
from bridge.local.config import Config, load_config, parse_config
from tests.support.bridge_proc import run_bridge


@pytest.mark.parametrize(
    ("raw", "seconds"), [(4, 4.0), (0.5, 0.5), ("500ms", 0.5), ("4s", 4.0), ("5m", 300.0), ("2h", 7200.0), ("7d", 604800.0), (0, 0.0)]
)
def test_durations(raw: object, seconds: float) -> None:
    assert parse_duration("x", raw) == seconds


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"max_stal": "7d"}, "unknown key 'max_stal'; known keys: admin_deadline, cache_ttl, connect_timeout, deadline, edge, gateway_timeout, max_stale, notify, providers, read_timeout"),
        ({"admin_deadline": 0}, "admin_deadline must be above 0 and at most 600s"),
        ({"admin_deadline": "11m"}, "admin_deadline must be above 0 and at most 600s"),
        ({"deadline": True}, "deadline must be a duration"),
        ({"deadline": [4]}, "deadline must be a duration"),
        ({"max_stale": "-1d"}, "is not a duration"),
        ({"max_stale": -5}, "max_stale must not be negative"),
        ({"cache_ttl": "5 minutes"}, "is not a duration"),
        ({"deadline": 0}, "deadline = 0s is out of range; it must be above 0 and below the gateway's 5s timeout"),
        ({"deadline": float("inf")}, "deadline = inf is not a finite duration"),
        ({"deadline": float("nan")}, "deadline = nan is not a finite duration"),
        ({"read_timeout": "9s"}, "read_timeout = 9s is out of range"),
        ({"deadline": "5s"}, "deadline = 5s is out of range"),
        ({"max_stale": "1" + "0" * 400 + "d"}, "is not a finite duration"),
        ({"max_stale": "400d"}, "max_stale is longer than 366 days"),
        ({"max_stale": "1h", "cache_ttl": "2h"}, "cache_ttl (2 h) is longer than max_stale (60 min)"),
        ({"gateway_timeout": 0}, "gateway_timeout must be above 0 and at most 600s"),
        ({"gateway_timeout": "601s"}, "gateway_timeout must be above 0 and at most 600s"),
        ({"gateway_timeout": float("inf")}, "gateway_timeout = inf is not a finite duration"),
        ({"gateway_timeout": "3s"}, "deadline = 4s is out of range; it must be above 0 and below the gateway's 3s timeout"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(BridgeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(doc)


def test_missing_file_means_defaults_and_bad_toml_names_the_file(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml") == Config()
    bad = tmp_path / "config.toml"
    bad.write_text("deadline = \n")
    with pytest.raises(BridgeError, match=f"{bad} is not valid TOML"):
        load_config(bad)


def test_shipped_example_config_is_valid_and_equals_the_defaults() -> None:
    assert load_config(Path(__file__).resolve().parents[1] / "config" / "config.toml") == Config()


def test_a_bad_config_reaches_every_id_and_stderr(env_bootstrap: dict[str, str], bridge_home: Path) -> None:
    (bridge_home / "config.toml").write_text('max_stale = "forever"\n')
    result = run_bridge(["resolve"], env_bootstrap, b'{"protocolVersion":1,"provider":"s","ids":["A"]}')
    assert result.returncode == 0
    assert "is not a duration" in result.stdout.decode() and "is not a duration" in result.stderr


KEY = "sb_secret_CRASHKEY1234567890abcdef"


def crash(args: object, started: float) -> int:
    raise RuntimeError(f"boom while holding {KEY}")


def test_crash_is_one_line_without_traceback_or_secret(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "dispatch", crash)
    monkeypatch.delenv("BRIDGE_DEBUG", raising=False)
    assert cli.main(["logout"]) == 1
    err = capsys.readouterr().err
    assert err == "bridge: internal error (RuntimeError); rerun with BRIDGE_DEBUG=1 for details and report it\n"


def test_debug_traceback_redacts_keys_from_any_store(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "dispatch", crash)
    monkeypatch.setenv("BRIDGE_DEBUG", "1")
    monkeypatch.delenv("SUPABASE_SECRET_KEY", raising=False)
    assert cli.main(["logout"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "[REDACTED]" in err and KEY not in err


class PanicException(BaseException):
    """What a Rust extension's panic surfaces as in Python (pyo3): not an Exception, so `except Exception` misses it."""


def panic(args: object, started: float) -> int:
    raise PanicException(f"assertion failed in the cipher, key {KEY}")


def test_a_native_panic_is_one_line_too(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "dispatch", panic)
    monkeypatch.delenv("BRIDGE_DEBUG", raising=False)
    assert cli.main(["logout"]) == 1
    assert capsys.readouterr().err == "bridge: internal error (PanicException); rerun with BRIDGE_DEBUG=1 for details and report it\n"


def test_an_os_error_names_the_path_not_a_traceback(env_bootstrap: dict[str, str], bridge_home: Path) -> None:
    (bridge_home / "cache.sealed.lock").mkdir()
    (bridge_home / "cache.sealed").write_bytes(b"x")
    (bridge_home / "cache.sealed").chmod(0o600)
    result = run_bridge(["cache", "clear"], env_bootstrap)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "cache.sealed.lock" in result.stderr
