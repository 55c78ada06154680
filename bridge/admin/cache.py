"""`bridge cache status` and `bridge cache clear`: see and empty the last-known-good cache, never its values."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from bridge.cache import CacheFile, Snapshot, remove_cache
from bridge.config import Config, load_config
from bridge.credentials import find_credentials, lookup_order
from bridge.errors import BridgeError
from bridge.paths import Paths
from bridge.protocol import SELECTOR_SEPARATOR
from bridge.resolve import format_age
from bridge.sealed import Identity

LOCK_WAIT_S = 5.0


def open_cache(env: Mapping[str, str]) -> tuple[CacheFile, Config]:
    paths = Paths.from_env(env)
    config = load_config(paths.config_file)
    found = find_credentials(lookup_order(env, paths.sealed_file))
    return CacheFile(paths.cache_file, found.credentials, Identity.current()), config


def status(as_json: bool, out: TextIO, env: Mapping[str, str]) -> int:
    paths = Paths.from_env(env)
    config = load_config(paths.config_file)
    try:
        cache, _ = open_cache(env)
        snapshot, diagnostic = cache.load()
    except BridgeError as exc:
        # Without credentials (or a machine id) the entries cannot be decrypted, but where the cache is still can be told.
        snapshot, diagnostic = Snapshot(url=""), f"entries unreadable: {exc}"
    now = time.time()
    entries = [
        {
            "id": name,
            "age_seconds": round(now - entry.fetched_at, 1),
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.fetched_at)),
            "source": snapshot.url,
            "usable_when_offline": config.max_stale > 0 and now - entry.fetched_at <= config.max_stale,
        }
        for name, entry in sorted(snapshot.entries.items())
    ]
    report = {
        "path": str(paths.cache_file),
        "enabled": config.max_stale > 0,
        "max_stale_seconds": config.max_stale,
        "cache_ttl_seconds": config.cache_ttl,
        "problem": diagnostic,
        "entries": entries,
    }
    if as_json:
        out.write(json.dumps(report, indent=2) + "\n")
        return 0
    state = "enabled" if report["enabled"] else "disabled (max_stale = 0)"
    print(f"cache {paths.cache_file}: {state}, max_stale {format_age(config.max_stale)}, cache_ttl {format_age(config.cache_ttl)}", file=out)
    if diagnostic:
        print(f"problem: {diagnostic}", file=out)
    if not entries:
        print("no cached secrets", file=out)
    for e in entries:
        usable = "usable offline" if e["usable_when_offline"] else "too old to serve"
        print(f"  {e['id']:<40} {format_age(e['age_seconds']):>8} old  from {e['source']}  ({usable})", file=out)
    return 0


def clear(ids: list[str], out: TextIO, env: Mapping[str, str]) -> int:
    wait_until = time.monotonic() + LOCK_WAIT_S
    if not ids:
        path = Paths.from_env(env).cache_file
        print(f"removed the cache {path}" if remove_cache(path, wait_until) else "no cache to remove", file=out)
        return 0
    try:
        cache, _ = open_cache(env)
    except BridgeError as exc:
        raise BridgeError(
            f"forgetting single ids needs the credentials the cache was written with ({exc}); "
            "`bridge cache clear` with no ids removes the whole cache without them"
        ) from None
    removed = cache.clear(sorted({ref_id.partition(SELECTOR_SEPARATOR)[0] for ref_id in ids}), wait_until)
    print(f"removed {removed} cached {'secret' if removed == 1 else 'secrets'}", file=out)
    return 0


def main_status(as_json: bool) -> int:
    return status(as_json, sys.stdout, os.environ)


def main_clear(ids: list[str]) -> int:
    return clear(ids, sys.stdout, os.environ)
