"""When a resolve last had each Vault name answered by Supabase itself, not by the cache: how `bridge watch` knows a
reload delivered a change.

A reload "works" even when Supabase is away from the gateway's resolve: the
cache answers with the old value and OpenClaw swaps in the same snapshot. So
every resolve that got Supabase's answer stamps the names it asked for, with
the time it asked, in `resolved-live.json` beside the cache (0600, replaced
atomically under its own lock; names and times only, never a value, and no
credentials needed to read it, so a watcher holding other credentials than the
gateway's can read it). A change counts as delivered once its name carries a
stamp from after the reload began.

A stamp lost to a lock held too long, or to a crash mid-write, costs only one
more reload: the watcher keeps the change pending and tries again. Stamps are
by name, not by project URL: the gateway and its watcher may reach one project
by two URLs (a proxy, a custom domain). Two projects sharing one data directory
and one name would confirm each other's changes, which is the rare case.

Stamps are the gateway's: only `bridge resolve` writes them (never `bridge
run`, so no program it starts, no MCP client behind it), each under the
OpenClaw provider name the request came with, and the watcher reads only
those under the provider name it watches (--provider). Another program's live
answer therefore never confirms the gateway's delivery. The limit: a second
gateway on this machine whose openclaw.json names the same provider and shares
this data directory stamps under the same key.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from bridge.cache.store import FileLock
from bridge.local.files import FileTooLarge, atomic_write, read_private

LIVE_FILE = "resolved-live.json"
MAX_LIVE_BYTES = 256 * 1024
"""Thousands of names; past this the oldest stamps go first."""
NAME_BYTES = 48
"""The estimate of one stamp's size in the file, name aside."""
FUTURE_SKEW_S = 5.0
"""How far past "now" a stamp may lie and still be believed. A stamp written while the clock ran ahead (a boot
before NTP synced, then a step back) would otherwise confirm every reload until the clock caught up with it: such a
stamp is not trusted by the reader, and not kept by the next writer."""


def live_path(cache_file: Path) -> Path:
    return cache_file.with_name(LIVE_FILE)


def read_all(path: Path) -> dict[str, dict[str, float]] | None:
    """Every provider's stamps; None when no resolve ever wrote the file here. A file that is not well-formed is
    {}, as is a provider's entry that is not."""
    try:
        raw = read_private(path, MAX_LIVE_BYTES)
    except (OSError, FileTooLarge):
        return {}
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return {}
    by = doc.get("by") if isinstance(doc, dict) else None
    if not isinstance(by, dict):
        return {}
    return {
        str(provider): {
            str(n): float(t) for n, t in stamps.items()
            if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)
        }
        for provider, stamps in by.items() if isinstance(stamps, dict)
    }


def read_live(path: Path, provider: str) -> dict[str, float] | None:
    """Each name's last live answer to a `bridge resolve` for `provider`; None when no resolve ever wrote the file
    here (then nothing can be confirmed, and the caller says so)."""
    stamps = read_all(path)
    return None if stamps is None else stamps.get(provider, {})


def stamp_live(path: Path, names: list[str], now: float, wait_until: float, *, provider: str) -> None:
    """Record that Supabase answered `names` at `now` to a `bridge resolve` for `provider`; raises LockTimeout or
    OSError (the caller carries on)."""
    with FileLock(path.with_name(path.name + ".lock"), wait_until):
        every = read_all(path) or {}
        mine = every.setdefault(provider, {})
        for name in names:
            old = mine.get(name, now)
            # A stamp from the future (the clock since stepped back) is replaced, never carried on by max(); one
            # merely newer than `now` (another resolve asked later and wrote first) is kept.
            mine[name] = now if old > time.time() + FUTURE_SKEW_S else max(now, old)
        budget = MAX_LIVE_BYTES - 64
        kept: dict[str, dict[str, float]] = {}
        flat = [(t, p, n) for p, stamps in every.items() for n, t in stamps.items()]
        for t, p, n in sorted(flat, reverse=True):
            budget -= len(json.dumps(n)) + len(json.dumps(p)) + NAME_BYTES
            if budget < 0:
                break
            kept.setdefault(p, {})[n] = t
        atomic_write(path, json.dumps({"by": kept}).encode())
