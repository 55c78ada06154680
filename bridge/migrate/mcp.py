"""`bridge migrate --mcp [PATH]`: the plaintext keys in MCP client configs into Vault, each server then started
through `bridge run`, and no plaintext copy left.

bridge migrate's discipline, step by step, each only once every step before it has succeeded: put back what an
interrupted run left half-done; plan (every file read once per real file, symlinks and hard links resolved,
every name chosen, Vault checked for a name holding another value); store and read every value back; check
every file is still byte for byte what was read; rewrite each file in place (same inode, mode and owner), its
old bytes first kept in a private copy (bridge.migrate.rewrites) so a kill at any system call is undone by the
next run; start each rewritten server the client would start, once, which must answer MCP's `initialize` or
stay up for START_CHECK_S; any failure, SIGINT, SIGTERM and SIGHUP included, puts every file back and stops
every server it started (its whole process group).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple, TextIO

from bridge import __version__
from bridge.app.context import Context
from bridge.app.session import open_client
from bridge.core.errors import BridgeError, UsageError
from bridge.core.keys import scrub
from bridge.core.text import printable
from bridge.local.files import FileTooLarge, read_capped
from bridge.local.locks import held
from bridge.migrate.mcp_plan import McpPlan, ServerChange, plan_mcp
from bridge.migrate.rewrites import MAX_CONFIG_BYTES, recover, remove_copies, rewrite_with_copy
from bridge.migrate.snapshot import Saved, put_back, save

START_CHECK_S = 2.0
"""A rewritten server that answers `initialize`, or is still running after this, has started."""
STOP_WAIT_S = 3.0
MAX_REAP_ROUNDS = 5
MCP_PROTOCOL_VERSION = "2025-06-18"
MAX_DETAIL_CHARS = 300


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PROJECT_FILES = (Path(".mcp.json"), Path(".cursor") / "mcp.json", Path(".vscode") / "mcp.json")
"""A project's own MCP configs: Claude Code's, Cursor's and VS Code's."""


def home_of(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def user_files(env: Mapping[str, str], platform: str = sys.platform) -> list[Path]:
    """Each client's user-level config where it keeps it on this OS (docs/run.md cites each client's docs)."""
    home = home_of(env)
    if platform == "darwin":
        app_support = home / "Library" / "Application Support"
        claude, code = app_support / "Claude", app_support / "Code" / "User"
    else:
        config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        claude, code = config / "Claude", config / "Code" / "User"
    return [
        claude / "claude_desktop_config.json",
        home / ".claude.json",
        home / ".cursor" / "mcp.json",
        code / "mcp.json",
        home / ".codeium" / "windsurf" / "mcp_config.json",
    ]


def project_dirs(cwd: Path, claude_json: Path) -> list[Path]:
    """The current directory and every project Claude Code knows (the keys of `projects` in ~/.claude.json)."""
    dirs = [cwd]
    if claude_json.is_file():
        with contextlib.suppress(BridgeError):
            projects = read_document(claude_json).get("projects")
            if isinstance(projects, dict):
                dirs += [Path(p) for p in projects if isinstance(p, str) and Path(p).is_absolute()]
    return dirs


def default_files(env: Mapping[str, str], cwd: Path, platform: str = sys.platform) -> list[Path]:
    users = user_files(env, platform)
    projects = [d / f for d in project_dirs(cwd, users[1]) for f in PROJECT_FILES]
    return [p for p in dict.fromkeys([*users, *projects]) if p.is_file()]


class Launch(NamedTuple):
    """How the start check treats one rewritten server: where the client would start it, or why it never may."""

    cwd: Path | None
    refused: str | None


def launch_of(change: ServerChange, claude: Mapping[str, Any], home: Path) -> Launch:
    """A project's own config comes with the project (a cloned repository's too): its servers start only once the
    user approved them in the client, so the start check starts them only when the client's record says so.
    Claude Code keeps that record in ~/.claude.json (`projects.<dir>.enabledMcpjsonServers`,
    `enableAllProjectMcpServers`, `disabledMcpjsonServers`); Cursor's and VS Code's approvals are kept where the
    bridge cannot read them, so their project servers are never started. A project's server starts in the project."""
    file = Path(change.file)
    if change.table[:1] == ("projects",) and len(change.table) == 3:
        return Launch(Path(change.table[1]), None)
    if file.name == ".mcp.json":
        entry = (claude.get("projects") or {}).get(str(file.parent.resolve())) or {}
        entry = entry if isinstance(entry, dict) else {}
        enabled, disabled = entry.get("enabledMcpjsonServers"), entry.get("disabledMcpjsonServers")
        approved = entry.get("enableAllProjectMcpServers") is True or (isinstance(enabled, list) and change.server in enabled)
        if (isinstance(disabled, list) and change.server in disabled) or not approved:
            return Launch(None, "not approved in Claude Code for this project: not started to check it")
        return Launch(file.parent, None)
    if file.parent.name in (".cursor", ".vscode") and file.parent.parent.resolve() != home.resolve():
        return Launch(None, "a project's server, approved only inside its client: not started to check it")
    return Launch(None, None)


def claude_record(env: Mapping[str, str]) -> dict[str, Any]:
    """~/.claude.json as Claude Code left it, or nothing: what it says decides only which servers may start."""
    path = user_files(env)[1]
    with contextlib.suppress(BridgeError, OSError):
        return read_document(path)
    return {}


def read_config(path: Path) -> str:
    """An MCP config as text: up to MAX_CONFIG_BYTES (~/.claude.json keeps every project's history and outgrows
    OpenClaw's cap), UTF-8, a leading BOM dropped (VS Code's parser skips it)."""
    try:
        raw = read_capped(path, MAX_CONFIG_BYTES)
    except FileTooLarge:
        raise BridgeError(f"{path} is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB; left untouched") from None
    except OSError as exc:
        raise BridgeError(f"cannot read {path}: {exc.strerror}") from None
    if raw is None:
        raise BridgeError(f"cannot read {path}: it does not exist")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise BridgeError(f"{path} is not UTF-8 text; fix it by hand, it was left untouched") from None


def strip_jsonc(text: str) -> str:
    """JSON from JSONC (VS Code's and Cursor's format): `//` and `/* */` comments and trailing commas dropped,
    strings kept byte for byte."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == ",":
            k = i + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if k < n and text[k] in "}]":
                i += 1
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"the key {printable(twice)[:80]!r} appears twice in one object (a rewrite would drop one)")
    return dict(pairs)


def finite(number: str) -> float:
    value = float(number)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {number[:40]} is too large to write back as JSON")
    return value


def no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def is_jsonc(text: str) -> bool:
    return strip_jsonc(text) != text


def read_document(path: Path, text: str | None = None) -> dict[str, Any]:
    text = read_config(path) if text is None else text.removeprefix("\ufeff")
    try:
        doc = json.loads(strip_jsonc(text), object_pairs_hook=unique_keys, parse_float=finite, parse_constant=no_constant)
    except ValueError as exc:
        raise BridgeError(f"{path} is not valid JSON ({exc}); fix it by hand, it was left untouched") from None
    except RecursionError:
        raise BridgeError(f"{path} is nested too deeply to be an MCP config; left untouched") from None
    if not isinstance(doc, dict):
        raise BridgeError(f"{path} does not hold a JSON object; fix it by hand, it was left untouched")
    try:
        encode(doc)
    except UnicodeEncodeError:
        raise BridgeError(f"{path} holds a lone surrogate escape (\\ud800-\\udfff) a rewrite cannot write back; fix it by hand, it was left untouched") from None
    return doc


def encode(doc: Mapping[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True)
class McpRequest:
    paths: list[Path]
    include: list[str]
    exclude: list[str]
    dry_run: bool
    yes: bool
    as_json: bool
    keep_embedded: bool = False
    cwd: Path = Path()


@dataclass(frozen=True)
class Source:
    """One real file as read: the name it was found by, the file it is (symlinks resolved), its bytes."""

    name: Path
    real: Path
    data: bytes


def files_to_read(request: McpRequest, env: Mapping[str, str]) -> list[Path]:
    if request.paths:
        missing = [p for p in request.paths if not p.is_file()]
        if missing:
            raise UsageError(f"--mcp {missing[0]}: no such file; give an MCP client config such as ~/.cursor/mcp.json")
        return request.paths
    return default_files(env, request.cwd.resolve())


def name_only(plan: McpPlan, jsonc: set[str]) -> None:
    """A file with comments or trailing commas is read, never rewritten: writing it back as JSON would drop the
    user's comments, so its keys are named instead (moved by hand), and every other file goes ahead."""
    for change in [c for c in plan.changes if c.file in jsonc]:
        plan.named.extend(
            f"{change.label()}.env.{var} (the file has comments or trailing commas a rewrite would drop: move it by hand)"
            for var, _ in change.mappings
        )
    plan.changes = [c for c in plan.changes if c.file not in jsonc]
    plan.documents = {f: d for f, d in plan.documents.items() if f not in jsonc}
    plan.findings = [f for f in plan.findings if f.file not in jsonc]
    kept = {f.value for f in plan.findings}
    plan.names = {value: name for value, name in plan.names.items() if value in kept}


def read_sources(paths: list[Path], tolerant: bool = False) -> tuple[dict[str, Source], list[str]]:
    """Each real file once, under the first name it was found by; a second name (a symlink, a hard link) is
    said, never read again, so one file is planned, saved and put back once. `tolerant` (the files found, not
    given): an unreadable file is said and left, never stopping the others."""
    sources: dict[str, Source] = {}
    seen: dict[tuple[int, int], Path] = {}
    aliases: list[str] = []
    for path in paths:
        try:
            real = path.resolve()
            info = real.stat()
            data = read_config(real).encode("utf-8")
        except (BridgeError, OSError) as exc:
            if not tolerant:
                raise
            aliases.append(f"left alone: {exc if isinstance(exc, BridgeError) else f'cannot read {path}: {exc.strerror}'}")
            continue
        first = seen.get((info.st_dev, info.st_ino))
        if first is not None:
            aliases.append(f"{path} is the same file as {first}; read once")
            continue
        seen[(info.st_dev, info.st_ino)] = path
        sources[str(path)] = Source(path, real, data)
    return sources, aliases


def check_unchanged(source: Source) -> None:
    """The file is still byte for byte what was planned from, else nothing of it may be written."""
    try:
        now = read_config(source.real).encode("utf-8")
    except BridgeError:
        now = b""
    if now != source.data:
        raise BridgeError(
            f"{source.name} changed since it was read (another program, or an edit while this run waited); "
            "nothing of it was written: run again to plan from what it holds now"
        )


def start_check(change: ServerChange, env: Mapping[str, str], values: list[str], cwd: Path | None = None) -> str | None:
    """Start the rewritten server once, as its client would: None when it answered `initialize` or stayed up
    for START_CHECK_S, else why not (one line, no value). Whatever stops this (a signal too), the server and
    everything it started are stopped before it returns; on Linux the server is also killed by the kernel if
    the bridge dies first (PR_SET_PDEATHSIG), and a daemon it leaves behind (double fork, setsid) becomes the
    bridge's child (PR_SET_CHILD_SUBREAPER) and is killed with it."""
    entry = change.entry
    child_env = {**env, **{k: str(v) for k, v in dict(entry.get("env") or {}).items()}}
    before = children()
    reaping = set_subreaper(True)
    try:
        try:
            proc = subprocess.Popen(
                [str(entry["command"]), *entry["args"]], env=child_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=cwd, preexec_fn=die_with_parent(os.getpid()),
            )
        except OSError as exc:
            return f"could not start ({exc.strerror or type(exc).__name__})"
        try:
            return answer_of(proc, values)
        finally:
            stop(proc)
    finally:
        with signals_held():
            if reaping:
                kill_new_children(before)
                set_subreaper(False)


PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, value: int) -> bool:
    """Linux's prctl(2) through the C library; False where there is none (other systems: the limits are said in
    docs/run.md)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def set_subreaper(on: bool) -> bool:
    return prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0)


def die_with_parent(parent: int) -> Callable[[], None]:
    """Run in the child before exec: SIGKILL when the bridge dies, and exit now if it already has."""

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def children() -> set[int]:
    """The pids whose parent is this process (Linux's /proc; empty elsewhere)."""
    mine = os.getpid()
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat_line = Path(entry.path, "stat").read_text()
                if int(stat_line[stat_line.rindex(")") + 2:].split()[1]) == mine:
                    found.add(int(entry.name))
    return found


def kill_new_children(before: set[int]) -> None:
    """Every process that became this one's child during the check (a daemon the server left) killed and reaped;
    a few rounds, since a killed daemon's own children become ours in turn."""
    for _ in range(MAX_REAP_ROUNDS):
        left = children() - before
        if not left:
            return
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in left:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)


def answer_of(proc: subprocess.Popen[str], values: list[str]) -> str | None:
    answered = threading.Event()
    errors: list[str] = []

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("id") == 1 and "result" in message:
                answered.set()

    def read_stderr() -> None:
        assert proc.stderr is not None
        errors.extend(line for line in proc.stderr if line.strip())

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    for reader in readers:
        reader.start()
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": MCP_PROTOCOL_VERSION, "capabilities": {},
                   "clientInfo": {"name": "bridge-migrate-check", "version": __version__}},
    }
    with contextlib.suppress(OSError):
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(initialize) + "\n")
        proc.stdin.flush()
    ends = time.monotonic() + START_CHECK_S
    while not answered.is_set() and proc.poll() is None and time.monotonic() < ends:
        answered.wait(0.05)
    code = proc.poll()
    stop(proc)
    for reader in readers:
        reader.join(STOP_WAIT_S)
    if answered.is_set() or code is None:
        return None
    said = errors[-1] if errors else ""
    for value in values:
        said = scrub(said, value, MAX_DETAIL_CHARS)
    detail = printable(" ".join(said.split()))[:MAX_DETAIL_CHARS]
    return f"exited with status {code} within {START_CHECK_S:g}s without answering initialize" + (f": {detail}" if detail else "")


def stop(proc: subprocess.Popen[str]) -> None:
    """The server and everything in its process group (its own session): closed stdin first, as a client quits,
    then SIGTERM, then SIGKILL for whatever is left, a child the server started included. Signals are held
    meanwhile: a second SIGTERM (a service manager repeating itself) must not skip the SIGKILL."""
    with signals_held():
        try:
            with contextlib.suppress(OSError):
                if proc.stdin is not None:
                    proc.stdin.close()
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(STOP_WAIT_S)
        finally:  # a signal another thread took still unwinds through here
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def store_and_verify(ctx: Context, plan: McpPlan, existing: Mapping[str, object]) -> None:
    by_name = plan.values_by_name()
    labels = {plan.names[f.value]: f.label() for f in plan.findings}
    with open_client(ctx) as client:
        for name, value in by_name.items():
            if existing.get(name) != value:
                client.set_secret(name, value, f"moved by bridge migrate --mcp from {labels[name]}"[:500])
        back = client.resolve(list(by_name))
    wrong = [name for name, value in by_name.items() if back.get(name) != value]
    if wrong:
        raise BridgeError(f"Vault read back a different value for {', '.join(wrong)}; no file was changed")


class Interrupted(BaseException):
    """SIGTERM or SIGHUP during the rewrite: unwinds like Ctrl-C, so every file goes back and every server stops."""


@contextlib.contextmanager
def signals_unwind() -> Iterator[None]:
    """SIGTERM and SIGHUP raise Interrupted (SIGINT already raises KeyboardInterrupt) while files are rewritten."""

    def unwind(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    before = {sig: signal.signal(sig, unwind) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """No signal interrupts the roll-back itself; one that came meanwhile is acted on after it."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def still_ours(target: Path, wrote: bytes | None) -> bool:
    """Whether the roll-back may put `target` back: it is still the bytes this run wrote (or the rewrite never
    finished, so whatever it holds is this run's). A client's save since (a new file renamed over it, an edit
    in place) is the user's and is never overwritten."""
    if wrote is None:
        return True
    try:
        return read_config(target).encode("utf-8") == wrote
    except BridgeError:
        return False


def write_and_check(ctx: Context, plan: McpPlan, sources: Mapping[str, Source]) -> None:
    """Every file rewritten in place, then every server the client would start started once; on any failure
    (SIGINT, SIGTERM, SIGHUP too) every file is put back and every private copy removed."""
    saved: dict[Path, Saved] = {}
    written: dict[Path, bytes] = {}
    copies: list[Path] = []
    data_dir = ctx.paths.data_dir
    with signals_unwind():
        try:
            for file in plan.documents:
                check_unchanged(sources[file])
            for file, doc in plan.documents.items():
                source = sources[file]
                check_unchanged(source)
                saved[source.real] = save(source.real)
                new = encode(doc)
                rewrite_with_copy(data_dir, source.real, source.data, new, copies)
                written[source.real] = new
            values = list(plan.names)
            claude = claude_record(ctx.env)
            for change in plan.changes:
                launch = launch_of(change, claude, home_of(ctx.env))
                if change.disabled or launch.refused is not None:
                    continue
                problem = start_check(change, ctx.env, values, launch.cwd)
                if problem is not None:
                    raise BridgeError(f"{change.label()} did not start through bridge run: {problem}")
        except BaseException as exc:  # noqa: BLE001 - a signal too: the files go back whatever stopped the run
            with signals_held():
                theirs = [target for target in saved if not still_ours(target, written.get(target))]
                for target, before in saved.items():
                    if target not in theirs:
                        put_back(target, before)
                remove_copies(copies)
            if isinstance(exc, BridgeError | OSError):
                reason = str(exc)
            elif isinstance(exc, Interrupted | KeyboardInterrupt):
                reason = f"interrupted ({exc or 'SIGINT'})"
            else:
                reason = type(exc).__name__
            undone = "every file was put back as it was" if saved else "nothing was changed"
            if theirs:
                undone = (
                    f"{', '.join(map(str, theirs))} was saved by another program (the client?) after the rewrite and was "
                    "left as it is now: check its servers by hand; every other file was put back as it was"
                )
            raise BridgeError(f"{reason}; {undone} (the values stay in Vault)") from None
        remove_copies(copies)


def report(
    plan: McpPlan, existing: Mapping[str, object], files: list[Path], notes: list[str], out: TextIO, env: Mapping[str, str],
) -> None:
    if not files:
        print("no MCP client config found (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf); "
              "give one: bridge migrate --mcp PATH", file=out)
        return
    print(f"read: {', '.join(str(f) for f in files)}", file=out)
    for note in notes:
        print(note, file=out)
    claude = claude_record(env)
    for change in plan.changes:
        refused = launch_of(change, claude, home_of(env)).refused
        aside = " (disabled: not started to check it)" if change.disabled else f" ({refused})" if refused else ""
        print(f"{change.label()} starts through bridge run:" + aside, file=out)
        for var, name in change.mappings:
            state = "new" if name not in existing else "in Vault" if existing[name] == plan.values_by_name()[name] else "CONFLICT"
            print(f"  {var} -> Vault {name} ({state})", file=out)
    for line in plan.skipped:
        print(f"left alone: {line}", file=out)
    for line in plan.named:
        print(f"key not moved: {line}", file=out)
    if not plan.changes and not plan.named:
        print("nothing to migrate: no plaintext credential in those servers' env, headers, URL or args", file=out)


def as_json(plan: McpPlan, existing: Mapping[str, object], files: list[Path], outcome: str) -> dict[str, Any]:
    by_name = plan.values_by_name()
    return {
        "outcome": outcome, "files": [str(f) for f in files],
        "servers": [
            {"file": c.file, "server": c.server, "table": ".".join(c.table), "disabled": c.disabled, "env": [
                {"var": var, "name": name, "status": "new" if name not in existing else "in Vault" if existing[name] == by_name[name] else "CONFLICT"}
                for var, name in c.mappings
            ]} for c in plan.changes
        ],
        "skipped": plan.skipped,
        "not_moved": plan.named,
    }


LOCK_NAME = "mcp-migrate.lock"


def migrate_mcp(request: McpRequest, ctx: Context, confirm: Callable[[Context, int], None]) -> int:
    """One run at a time (a --dry-run too): a second run would take the first one's private copies for a crash's
    leftovers and put the old files back under it. The lock is a flock, so a killed run leaves none."""
    with held(ctx.paths.data_dir / LOCK_NAME) as mine:
        if not mine:
            raise BridgeError("another bridge migrate --mcp is running; wait for it to finish, then run again")
        return migrate_locked(request, ctx, confirm)


def migrate_locked(request: McpRequest, ctx: Context, confirm: Callable[[Context, int], None]) -> int:
    for line in recover(ctx.paths.data_dir):
        print(line, file=ctx.err)
    files = files_to_read(request, ctx.env)
    sources, notes = read_sources(files, tolerant=not request.paths)
    documents: dict[str, dict[str, Any]] = {}
    for name, source in sources.items():
        try:
            documents[name] = read_document(source.name, source.data.decode("utf-8"))
        except BridgeError as exc:
            if request.paths:
                raise
            notes.append(f"left alone: {exc}")  # one client's unreadable file never stops the others
    plan = plan_mcp(documents, str(ctx.launcher), request.include, request.exclude)
    name_only(plan, {name for name in documents if is_jsonc(sources[name].data.decode("utf-8"))})
    names = sorted(plan.values_by_name())
    existing: dict[str, object] = {}
    if names:
        with open_client(ctx) as client:
            existing = client.resolve(names)
    conflicts = [n for n in names if n in existing and existing[n] != plan.values_by_name()[n]]

    def finish(outcome: str) -> None:
        if request.as_json:
            ctx.out.write(json.dumps(as_json(plan, existing, files, outcome), indent=2) + "\n")

    if not request.as_json:
        report(plan, existing, files, notes, ctx.out, ctx.env)
    if conflicts:
        finish("refused")
        raise BridgeError(
            f"Vault already holds a different value under {', '.join(conflicts)}; nothing was written: "
            "delete or rename that secret, or --exclude the variable"
        )
    if plan.named and not request.keep_embedded:
        finish("refused")
        raise BridgeError(
            f"{len(plan.named)} key(s) sit where bridge run cannot give them (listed above as 'key not moved'); nothing was "
            "changed. Move each by hand (a header or URL as the client's ${VAR} reference, an args key into env), or "
            "pass --keep-embedded to migrate the rest and leave them"
        )
    if request.dry_run or not plan.changes:
        finish("dry-run" if request.dry_run else "nothing-to-migrate")
        return 0
    if not request.yes:
        confirm(ctx, len(names))
    for file in plan.documents:
        check_unchanged(sources[file])
    store_and_verify(ctx, plan, existing)
    write_and_check(ctx, plan, sources)
    finish("migrated")
    if not request.as_json:
        print(f"moved {len(names)} value(s) into Vault; {len(plan.changes)} server(s) now start through bridge run; "
              "restart the MCP client to use them", file=ctx.out)
    return 0
