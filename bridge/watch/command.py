"""`bridge watch`: the verb, its options, and the process around the loop: lock, state file, signals.

The loop runs on a daemon thread while the main thread waits for the stop
Event, which SIGTERM, SIGINT and SIGHUP set: the watcher exits 0 within a second or so
even mid-poll (a poll still running is abandoned, a reload still running is
killed with its process group; the gateway keeps its snapshot either way).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from bridge.app.context import Context
from bridge.app.verbs import Verb, add_action, add_dry_run, add_json, add_provider, checked
from bridge.core.durations import format_age, option_seconds
from bridge.core.errors import BridgeError, UsageError
from bridge.local.watch_facts import DEFAULT_INTERVAL_S, MAX_INTERVAL_S, MIN_INTERVAL_S, read_state
from bridge.openclaw.config import DEFAULT_PROVIDER, config_path
from bridge.watch.followers import after_poll
from bridge.watch.loop import EXIT_OK, Watcher
from bridge.watch.reload import Reloader
from bridge.watch.schedule import Schedule
from bridge.watch.service import MANAGERS, Outcome, ServiceManager, environment, service_for, this_manager
from bridge.watch.state import StateFile, WatchLock, WatchState, carried_since, forget, iso, runtime_dir
from bridge.watch.target import ConfigFile, Targets, TokenSource, check_gateway_url
from bridge.watch.token import HeldToken
from bridge.watch.vault_io import VaultIO

DEFAULT_INTERVAL = format_age(DEFAULT_INTERVAL_S)
STOP_CHECK_S = 0.2
"""How often the main thread looks at the stop Event, in case a signal arrived while it was not waiting."""
STOP_GRACE_S = 1.0
"""After a signal, how long the loop may take to finish what it is doing before the process leaves without it."""


class Clocks:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class Journal:
    """One line per event on stderr, for the journal; a closed stderr loses the line, never the watcher."""

    def __init__(self, err: TextIO) -> None:
        self._err = err

    def __call__(self, line: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            print(f"bridge watch: {line}", file=self._err, flush=True)


def interval_seconds(raw: str) -> float:
    seconds = option_seconds("--interval", raw)
    if seconds < MIN_INTERVAL_S:
        raise UsageError(f"--interval {raw}: use at least {MIN_INTERVAL_S:g}s, e.g. 30s")
    if seconds > MAX_INTERVAL_S:
        raise UsageError(f"--interval {raw}: use at most {format_age(MAX_INTERVAL_S)}, e.g. 30s")
    return seconds


def check_interval(raw: str) -> str:
    interval_seconds(raw)
    return raw


def run_until_stopped(work: Callable[[], int], stop: threading.Event) -> int:
    """`work` on a daemon thread until it returns or a signal sets `stop`; its exception is raised here."""
    outcome: list[int | BaseException] = []

    def body() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which reports it as one line
            outcome.append(exc)
        finally:
            stop.set()

    worker = threading.Thread(target=body, name="bridge watch", daemon=True)
    worker.start()
    while not stop.wait(STOP_CHECK_S):
        pass
    worker.join(STOP_GRACE_S)
    if not outcome:
        return EXIT_OK
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""Each ends the watcher cleanly (exit 0, the reload's group killed). SIGHUP too: a watcher started in a terminal
ends with it, and openclaw.json is followed without one (it is read again whenever it changes)."""


def stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)


def handle_watch(args: argparse.Namespace, ctx: Context) -> int:
    if args.action is not None:
        code: int = args.run(args, ctx)
        return code
    if args.forget:
        removed = forget(ctx.paths.data_dir)
        print(f"removed {removed} file(s) of bridge watch from {ctx.paths.data_dir}", file=ctx.out)
        return EXIT_OK
    interval = interval_seconds(args.interval)
    config = ctx.config
    targets = Targets(ConfigFile(config_path(ctx.env)), args.provider, ctx.env, args.gateway_url)
    url = targets.current.url
    stop = threading.Event()
    stop_on_signals(stop)
    log = Journal(ctx.err)
    with WatchLock(ctx.paths.data_dir, url, runtime_dir(ctx.env)):
        vault = VaultIO(ctx, config, args.provider)
        unreadable = read_state(ctx.paths.data_dir).problem
        if unreadable is not None:
            # Starting afresh would take every rotation since the last watcher's `since` as what the gateway holds.
            raise BridgeError(
                f"{unreadable}, so the change feed cannot carry on from where the last watcher stopped; "
                f"move it aside (the next poll then takes what Vault holds as what the gateway holds) or restore it"
            )
        since = carried_since(ctx.paths.data_dir, url)
        state = StateFile(
            ctx.paths.data_dir, WatchState(pid=os.getpid(), gateway_url=url, interval_s=interval, started_at=iso(time.time()), since=since),
        )
        state.record()

        kept = vault.kept(url)

        def make_token(source: TokenSource) -> HeldToken:
            return HeldToken(source, vault.cached, vault.live, kept)

        token = make_token(targets.current.token)
        problem = token.learn()
        if problem is not None:
            log(problem)
        reloader = Reloader(ctx.env)
        watcher = Watcher(
            schedule=Schedule(interval, random.uniform, time.monotonic(), baseline=not args.once, since=since),
            targets=targets, vault=vault, reload=reloader, token=token, make_token=make_token, state=state, log=log,
            clocks=Clocks(), stop=stop, after_poll=after_poll(ctx, log),
        )
        every = "once" if args.once else f"every {format_age(interval)}"
        carried = f", carrying on from {since}" if since else ""
        log(f"watching {len(targets.current.names)} secret(s) of {url} through provider {args.provider!r}, {every}{carried}")
        try:
            return run_until_stopped(watcher.once if args.once else watcher.run, stop)
        finally:
            reloader.cancel()


def watch_words(args: argparse.Namespace) -> list[str]:
    """What the service runs after the launcher: `watch` with the options given here, so the file says no more than
    was asked (the watcher's defaults stay the watcher's). The interval is written as seconds: the parser takes
    `30 s` or a trailing newline, which would split the unit's command line or start a line of its own."""
    words = ["watch"]
    if args.provider != DEFAULT_PROVIDER:
        words += ["--provider", args.provider]
    if args.interval is not None:
        words += ["--interval", f"{interval_seconds(args.interval):g}s"]
    if args.gateway_url is not None:
        words += ["--gateway-url", args.gateway_url]
    return words


def manager_for(args: argparse.Namespace, ctx: Context, words: list[str]) -> ServiceManager:
    launcher = Path(args.command) if args.command else ctx.launcher
    settings, _ = environment(ctx.env)
    return ServiceManager(service_for(args.manager or this_manager(), launcher, words, settings, ctx.env))


def report(outcome: Outcome, args: argparse.Namespace, ctx: Context) -> None:
    if args.json:
        print(json.dumps({**outcome.as_json(), "dry_run": args.dry_run}), file=ctx.out)
        return
    if args.dry_run:
        print("dry run: nothing is changed; without --dry-run these steps are taken:", file=ctx.out)
    for line in outcome.lines:
        print(line, file=ctx.out)


def handle_install(args: argparse.Namespace, ctx: Context) -> int:
    manager = manager_for(args, ctx, watch_words(args))
    outcome = manager.install(args.dry_run, args.restart)
    report(outcome, args, ctx)
    if not args.json:
        print(f"the watcher: {outcome.status}", file=ctx.out)
        if environment(ctx.env)[1] is None:
            print("note: openclaw is not on PATH here, so the watcher cannot run `openclaw secrets reload`; "
                  "run this again with openclaw on PATH", file=ctx.out)
    return EXIT_OK


def handle_uninstall(args: argparse.Namespace, ctx: Context) -> int:
    outcome = manager_for(args, ctx, ["watch"]).uninstall(args.dry_run)
    report(outcome, args, ctx)
    return EXIT_OK


def add_service_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--command", metavar="PATH", help="absolute launcher path the service runs (default: this executable)")
    parser.add_argument(
        "--manager", choices=MANAGERS, help="the service manager to write for (default: systemd on Linux, launchd on macOS)",
    )
    add_dry_run(parser)
    add_json(parser)


def add_service_actions(parser: argparse.ArgumentParser) -> None:
    """`bridge watch install|uninstall`: optional, so that `bridge watch [options]` still runs the watcher."""
    actions = parser.add_subparsers(dest="action", metavar="<action>", required=False)
    install = add_action(
        actions, "install", "run the watcher as a systemd user unit (Linux) or launchd agent (macOS), started now when the service manager answers",
        "bridge watch install --interval 30s --dry-run", handle_install,
    )
    install.add_argument(
        "--interval", default=None, type=checked(check_interval), metavar="DURATION",
        help=f"the watcher's --interval (default: the watcher's own, {DEFAULT_INTERVAL})",
    )
    install.add_argument("--gateway-url", type=checked(check_gateway_url), metavar="URL", help="the watcher's --gateway-url")
    install.add_argument("--restart", action="store_true", help="restart the watcher even if its file is unchanged (after an update or a login)")
    add_provider(install)
    add_service_arguments(install)
    uninstall = add_action(
        actions, "uninstall", "stop the watcher's unit or agent and remove the file install wrote (only that file)",
        "bridge watch uninstall --dry-run", handle_uninstall,
    )
    add_service_arguments(uninstall)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_service_actions(parser)
    parser.add_argument(
        "--interval", default=DEFAULT_INTERVAL, type=checked(check_interval), metavar="DURATION",
        help=f"time between polls of Vault's change feed (default: {DEFAULT_INTERVAL})",
    )
    parser.add_argument(
        "--gateway-url", type=checked(check_gateway_url), metavar="URL",
        help="the gateway to reload (default: ws://127.0.0.1:<gateway.port from openclaw.json>); ws:// only to loopback",
    )
    parser.add_argument(
        "--once", action="store_true", help="one pass, then exit: poll (what changed since the last watcher's poll, everything the first time) and reload if anything is listed",
    )
    parser.add_argument(
        "--forget", action="store_true",
        help="remove the watchers' state file and locks instead (install.sh --uninstall runs it once the watcher is stopped)",
    )
    add_provider(parser)


VERBS = {
    "watch": Verb(
        "watch", "reload the running gateway when a secret it uses changes in Vault",
        "bridge watch --interval 30s", handle_watch, add_arguments,
    ),
}
