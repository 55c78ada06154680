"""`bridge cache status` and `bridge cache clear`: see and empty the last-known-good cache, never its values."""

from __future__ import annotations

import argparse
import json
import time

from bridge.app.context import Context
from bridge.app.verbs import Verb, add_action, add_actions, add_json, run_action
from bridge.cache.store import CacheContents, CacheFile, remove_cache
from bridge.core.durations import format_age
from bridge.core.errors import BridgeError
from bridge.core.refs import SELECTOR_SEPARATOR
from bridge.local.identity import Identity

LOCK_WAIT_S = 5.0


def open_cache(ctx: Context) -> CacheFile:
    return CacheFile(ctx.paths.cache_file, ctx.credentials().credentials, Identity.current())


def status(as_json: bool, ctx: Context) -> int:
    paths, config, out = ctx.paths, ctx.config, ctx.out
    try:
        snapshot, diagnostic = open_cache(ctx).load()
    except BridgeError as exc:
        # Without credentials (or a machine id) the entries cannot be decrypted, but where the cache is still can be told.
        snapshot, diagnostic = CacheContents(url=""), f"entries unreadable: {exc}"
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
        "refused_at": None if snapshot.refused_at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(snapshot.refused_at)),
        "entries": entries,
    }
    if as_json:
        out.write(json.dumps(report, indent=2) + "\n")
        return 0
    state = "enabled" if report["enabled"] else "disabled (max_stale = 0)"
    print(f"cache {paths.cache_file}: {state}, max_stale {format_age(config.max_stale)}, cache_ttl {format_age(config.cache_ttl)}", file=out)
    if diagnostic:
        print(f"problem: {diagnostic}", file=out)
    if snapshot.refused_at is not None:
        print(f"Supabase refused these credentials {format_age(max(0.0, now - snapshot.refused_at))} ago: nothing is served "
              "from the cache until they are accepted again", file=out)
    if not entries:
        print("no cached secrets", file=out)
    for e in entries:
        usable = "usable offline" if e["usable_when_offline"] else "too old to serve"
        print(f"  {e['id']:<40} {format_age(float(str(e['age_seconds']))):>8} old  from {e['source']}  ({usable})", file=out)
    return 0


def clear(ids: list[str], ctx: Context) -> int:
    wait_until, out = time.monotonic() + LOCK_WAIT_S, ctx.out
    if not ids:
        path = ctx.paths.cache_file
        print(f"removed the cache {path}" if remove_cache(path, wait_until) else "no cache to remove", file=out)
        return 0
    try:
        cache = open_cache(ctx)
    except BridgeError as exc:
        raise BridgeError(
            f"forgetting single ids needs the credentials the cache was written with ({exc}); "
            "`bridge cache clear` with no ids removes the whole cache without them"
        ) from None
    removed = cache.clear(sorted({ref_id.partition(SELECTOR_SEPARATOR)[0] for ref_id in ids}), wait_until)
    print(f"removed {removed} cached {'secret' if removed == 1 else 'secrets'}", file=out)
    return 0


def handle_cache_status(args: argparse.Namespace, ctx: Context) -> int:
    return status(args.json, ctx)


def handle_cache_clear(args: argparse.Namespace, ctx: Context) -> int:
    return clear(args.ids, ctx)


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    actions = add_actions(parser)
    status_parser = add_action(
        actions, "status", "cached ids with their age and source", "bridge cache status --json",
        handle_cache_status,
    )
    add_json(status_parser)
    clear_parser = add_action(
        actions, "clear", "forget the given ids (needs the credentials), or the whole cache (needs none)",
        "bridge cache clear OPENAI_API_KEY", handle_cache_clear,
    )
    clear_parser.add_argument("ids", nargs="*", metavar="ID", help="ids to forget (default: all)")


VERBS = {
    "cache": Verb(
        "cache", "show or empty the last-known-good cache (never shows values)", "bridge cache status --json",
        run_action, add_cache_arguments,
    ),
}
