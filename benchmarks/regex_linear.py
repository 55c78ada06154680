"""Every check over user input grows linearly: time at 2 MiB over time at 512 KiB, for each shape check,
redaction and parser on the admin and resolve paths, on the crafted input that is worst for it. The sizes
bracket the 1 MiB the tests use and stay above the CPU caches, whose edge alone doubles a ratio below 512 KiB.

A linear check shows a ratio near 4 (the size ratio); quadratic backtracking would show about 16, and the
PEM pattern this replaced (cubic) did not finish at 64 KiB. Prints one line per check, then the largest ratio
and PASS when it is under 12 (room for caches and a noisy machine; quadratic is 16), else MISS.

    .venv/bin/python benchmarks/regex_linear.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.core.keys import redact_shapes, scrub  # noqa: E402
from bridge.core.secret_types import MAX_REDACT_CHARS, one_line, pem_bodies, secret_parts, shape_problem  # noqa: E402
from bridge.openclaw.dotenv import parse  # noqa: E402
from bridge.providers.answers import error_detail  # noqa: E402

SMALL, LARGE = 512 * 1024, 2 * 1024 * 1024
LIMIT = 12.0


def filled(unit: str, size: int) -> str:
    return unit * (size // len(unit))


CHECKS: dict[str, Callable[[int], object]] = {
    "PEM key: header then spaces": lambda n: pem_bodies("-----BEGIN PRIVATE KEY-----" + " " * n),
    "PEM key: headers without an end": lambda n: pem_bodies(filled("-----BEGIN PRIVATE KEY-----", n)),
    "aws shape: an extra PEM field": lambda n: shape_problem("aws", json.dumps({
        "access_key_id": "AKIA" + "Q" * 16, "secret_access_key": "a" * 40, "x": "-----BEGIN PRIVATE KEY-----" + " " * (n // 16)})),
    "openai shape: a long key": lambda n: shape_problem("openai", "sk-" + filled("A", n) + "!"),
    "redaction: 1 part of n chars": lambda n: one_line(filled("aA", MAX_REDACT_CHARS), secret_parts("generic", filled("aA", n))),
    "redaction: JWT shapes": lambda n: redact_shapes(filled("eyJa", n)),
    "scrub: a key of n chars": lambda n: scrub(filled("ab", MAX_REDACT_CHARS), filled("ab", n)),
    "dotenv: blank lines": lambda n: parse(filled("\n", n)),
    "dotenv: empty assignments": lambda n: parse(filled("A=\n", n)),
    "dotenv: unterminated quotes": lambda n: parse(filled("A='\n", n)),
    "provider XML error": lambda n: error_detail(filled("<Code>a", n).encode()),
}


def seconds(check: Callable[[int], object], size: int, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        check(size)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    worst = 0.0
    for name, check in CHECKS.items():
        small, large = seconds(check, SMALL, args.runs), seconds(check, LARGE, args.runs)
        ratio = large / max(small, 1e-6)
        worst = max(worst, ratio)
        print(f"{name:<36} 512 KiB {small * 1000:8.2f} ms   2 MiB {large * 1000:9.2f} ms   ratio {ratio:6.1f}")
    print(f"largest ratio {worst:.1f} (linear: 4): {'PASS' if worst < LIMIT else 'MISS'}")
    return 0 if worst < LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
