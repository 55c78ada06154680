"""Builds setup.sql and the newest Supabase migration from the files beside this one.

    python sql/build.py           write setup.sql and supabase/migrations/<timestamp>_bridge_schema_v<N>.sql
    python sql/build.py --check   exit 1 if either differs from what would be written (test.sh runs this)

setup.sql stays the one file a person pastes into the SQL editor; the files here are where it is read and
changed: one per area, in dependency order (AREAS), the limits as one table (limits.toml), and the versioned
steps one per schema version (steps/v<N>.sql). The schema version is stated once, as SCHEMA_VERSION in
bridge/__init__.py; this script writes it into the guard and checks that a step exists for each version.

Every schema version is also one migration under supabase/migrations, for `supabase db push`: that
version's whole setup.sql, run only when the database is not already past that version (a project set up by
pasting a newer setup.sql must not have older functions put back). Migrations are append-only: a released
version's (sql/releases.toml) is rebuilt from its commit's setup.sql and must be as committed, and only the
current version's follows sql/.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SETUP = REPO / "setup.sql"
MIGRATIONS = REPO / "supabase" / "migrations"
MIGRATION = re.compile(r"^(\d{14})_bridge_schema_v(\d+)\.sql$")
VERSION_MARK = "@SCHEMA_VERSION@"
RULE = "-- " + "-" * 75


class Area(NamedTuple):
    title: str
    source: str
    """A file under sql/, or LIMITS or STEPS for the generated sections."""


LIMITS = "limits.toml + limits.sql"
STEPS = "steps/v*.sql"
AREAS = (
    Area("Private schema and schema version record", "schema.sql"),
    Area("Limits and named lists (the values are written here and nowhere else)", LIMITS),
    Area("Versioned steps (ordered; each runs once)", STEPS),
    Area("Audit log: documentation and privileges (every run)", "audit_log.sql"),
    Area("Helpers shared by the areas below", "helpers.sql"),
    Area("Secrets: store, read, rotate and delete, by id and by name", "secrets.sql"),
    Area("Batch resolve (the bridge's hot path)", "resolve.sql"),
    Area("Lifecycle: types, rotation policy, provider tests and status", "lifecycle.sql"),
    Area("Kept versions: rotate, rollback and history (bridge secrets rotate)", "versions.sql"),
    Area("Audit log reads and alerts", "audit.sql"),
    Area("Change feed and rollout (bridge watch, secrets rollout)", "change_feed.sql"),
    Area("Dashboard (bridge ui)", "dashboard.sql"),
    Area("Gateway tokens (least privilege for gateways)", "tokens.sql"),
    Area("Tenants and members (Supabase Auth users who may see their tenant's metadata)", "tenants.sql"),
    Area("Schema version", "version.sql"),
)
"""setup.sql's sections in order: each area only calls what an earlier one defines (SQL-language bodies are
checked when created), and version.sql ends with the one REVOKE that must follow every vault_bridge function."""


def schema_version() -> int:
    found = re.search(r"^SCHEMA_VERSION = (\d+)$", (REPO / "bridge" / "__init__.py").read_text(encoding="utf-8"), re.M)
    if found is None:
        raise SystemExit("sql/build.py: bridge/__init__.py states no SCHEMA_VERSION")
    return int(found.group(1))


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def limits() -> str:
    table = tomllib.loads((HERE / "limits.toml").read_text(encoding="utf-8"))
    blocks = [
        f"CREATE OR REPLACE FUNCTION vault_bridge.{name}()\nRETURNS {row['returns']}\nLANGUAGE sql\nIMMUTABLE\n"
        f"SECURITY DEFINER\nSET search_path = ''\nAS $$ SELECT {row['value']} $$;\n"
        f"COMMENT ON FUNCTION vault_bridge.{name}() IS\n  {sql_string(row['comment'])};\n"
        for name, row in table.items()
    ]
    return "\n".join([*blocks, (HERE / "limits.sql").read_text(encoding="utf-8")])


def steps(version: int) -> str:
    found = sorted((int(path.stem[1:]), path) for path in (HERE / "steps").glob("v*.sql"))
    if [number for number, _ in found] != list(range(1, version + 1)):
        raise SystemExit(f"sql/build.py: sql/steps/ must hold v1.sql .. v{version}.sql, one per schema version "
                         f"(SCHEMA_VERSION in bridge/__init__.py is {version}); it holds {[n for n, _ in found]}")
    return "\n".join(path.read_text(encoding="utf-8") for _, path in found)


def section(number: int, area: Area, version: int) -> str:
    if area.source == LIMITS:
        body = limits()
    elif area.source == STEPS:
        body = steps(version)
    else:
        body = (HERE / area.source).read_text(encoding="utf-8")
    return f"{RULE}\n-- {number}. {area.title}\n--    (sql/{area.source})\n{RULE}\n\n{body.strip(chr(10))}\n\n"


def setup_sql(version: int) -> str:
    text = (HERE / "header.sql").read_text(encoding="utf-8") + "".join(
        section(number, area, version) for number, area in enumerate(AREAS, start=1))
    return text.replace(VERSION_MARK, str(version)).rstrip("\n") + "\n"


CHUNK_CHARS = 6000
"""The most setup.sql text one DO block of a migration carries: the Supabase CLI splits a migration into
statements with a scanner that slows down steeply on a long statement (the whole file as one DO block took
15 s to push where the same file unwrapped took 1.5 s), so the file goes a few statements per block."""


def statements(script: str) -> list[str]:
    """The script cut after each top-level `;` (outside quotes, dollar quotes and comments); the pieces joined
    give the script back exactly."""
    pieces: list[str] = []
    start = index = 0
    dollar: str | None = None
    while index < len(script):
        char = script[index]
        if dollar is not None:
            if script.startswith(dollar, index):
                index += len(dollar)
                dollar = None
                continue
        elif char == "'" or char == '"':
            end = script.find(char, index + 1)
            while end != -1 and script.startswith(char, end + 1):
                end = script.find(char, end + 2)
            index = len(script) if end == -1 else end + 1
            continue
        elif script.startswith("--", index):
            end = script.find("\n", index)
            index = len(script) if end == -1 else end + 1
            continue
        elif script.startswith("/*", index):
            end = script.find("*/", index + 2)
            index = len(script) if end == -1 else end + 2
            continue
        elif char == "$":
            tag = re.match(r"\$[A-Za-z_][A-Za-z0-9_]*\$|\$\$", script[index:])
            if tag is not None:
                dollar = tag.group()
                index += len(dollar)
                continue
        elif char == ";":
            end = script.find("\n", index)
            index = len(script) if end == -1 else end + 1
            pieces.append(script[start:index])
            start = index
            continue
        index += 1
    if start < len(script):
        pieces.append(script[start:])
    return pieces


def chunks(script: str) -> list[str]:
    """Whole statements, grouped into pieces of about CHUNK_CHARS (a longer statement is a piece of its own)."""
    grouped: list[str] = []
    for statement in statements(script):
        if grouped and len(grouped[-1]) + len(statement) <= CHUNK_CHARS:
            grouped[-1] += statement
        else:
            grouped.append(statement)
    return grouped


def migration(version: int, setup: str) -> str:
    """A version's migration: its setup.sql, a few statements per DO block, each run unless the database is
    already past that version (no piece of it can raise the version past it, so every piece decides alike)."""
    parts = chunks(setup)
    quotes = [f"$setup_v{version}_{number}$" for number in range(1, len(parts) + 1)]
    clash = [quote for quote in [*quotes, "$migration$"] if quote in setup]
    if clash:
        raise SystemExit(f"sql/build.py: setup.sql holds {clash[0]}, which this migration quotes it with")
    guard = (
        "DECLARE\n  v_installed integer := 0;\nBEGIN\n"
        "  IF to_regclass('vault_bridge.schema_migrations') IS NOT NULL THEN\n"
        "    EXECUTE 'SELECT coalesce(max(version), 0) FROM vault_bridge.schema_migrations' INTO v_installed;\n"
        "  ELSIF to_regclass('public.vault_access_log') IS NOT NULL THEN\n"
        "    v_installed := 1;  -- the first release kept no version record\n"
        "  END IF;\n"
        f"  IF v_installed > {version} THEN\n"
        "    IF to_regprocedure('public.vault_bridge_version()') IS NULL THEN\n"
        "      RAISE EXCEPTION 'openclaw-supabase-bridge: vault_bridge.schema_migrations says schema version %, but the "
        "bridge''s functions are not there: that record is not the bridge''s; remove it, then push again', v_installed;\n"
        "    END IF;\n"
        "    RETURN;\n  END IF;\n"
    )
    blocks = "".join(f"DO $migration$\n{guard}  EXECUTE {quote}\n{part}{quote};\nEND\n$migration$;\n\n"
                     for quote, part in zip(quotes, parts, strict=True))
    return (
        f"-- openclaw-supabase-bridge schema version {version}, for `supabase db push` (written by sql/build.py).\n"
        f"-- It runs that version's setup.sql, a few statements per block, unless the database already has a\n"
        f"-- newer schema version: a project set up by pasting a newer setup.sql keeps its newer functions.\n\n"
        f"{blocks}".rstrip("\n") + "\n"
    )


def setup_of(migration_text: str, version: int) -> str:
    """The setup.sql a migration runs: its pieces joined (what the tests compare with each release's file)."""
    pattern = re.compile(rf"\$setup_v{version}_(\d+)\$\n(.*?)\$setup_v{version}_\1\$;", re.S)
    return "".join(match.group(2) for match in pattern.finditer(migration_text))


class Release(NamedTuple):
    version: int
    commit: str
    migration: str
    """The migration's 14-digit timestamp."""


def releases() -> list[Release]:
    """sql/releases.toml: each released version, its commit and its migration's timestamp, oldest first."""
    table = tomllib.loads((HERE / "releases.toml").read_text(encoding="utf-8"))
    found = [Release(int(key.removeprefix("v")), row["commit"], row["migration"]) for key, row in table.items()]
    return sorted(found)


def release_setup(release: Release) -> str:
    """A released version's setup.sql, from git history."""
    shown = subprocess.run(["git", "-C", str(REPO), "show", f"{release.commit}:setup.sql"],
                           capture_output=True, text=True, check=False)
    if shown.returncode != 0:
        raise SystemExit(f"sql/build.py: cannot read setup.sql of release v{release.version} ({release.commit[:9]}) "
                         "from git history; a shallow clone needs `git fetch --unshallow`")
    return shown.stdout.rstrip("\n") + "\n"


def migration_files() -> dict[int, Path]:
    found: dict[int, Path] = {}
    for path in sorted(MIGRATIONS.glob("*.sql")):
        match = MIGRATION.match(path.name)
        if match is None:
            raise SystemExit(f"sql/build.py: {path.relative_to(REPO)} is not named <14-digit timestamp>_bridge_schema_v<N>.sql")
        version = int(match.group(2))
        if version in found:
            raise SystemExit(f"sql/build.py: two migrations for schema version {version}")
        found[version] = path
    stamps = [path.name[:14] for _, path in sorted(found.items())]
    if stamps != sorted(stamps):
        raise SystemExit("sql/build.py: the migrations' timestamps are not in schema version order")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if setup.sql or any migration is not what this builds")
    args = parser.parse_args()
    version = schema_version()
    setup = setup_sql(version)
    released = releases()
    if [release.version for release in released] != list(range(1, version)):
        raise SystemExit(f"sql/build.py: sql/releases.toml must list versions 1..{version - 1}, each released before "
                         f"SCHEMA_VERSION {version}; it lists {[release.version for release in released]}")
    existing = migration_files()
    if sorted(existing) not in (list(range(1, version + 1)), list(range(1, version))):
        raise SystemExit(f"sql/build.py: supabase/migrations must hold one migration per schema version 1..{version}; "
                         f"it holds {sorted(existing)}")
    current = existing.get(version) or MIGRATIONS / f"{time.strftime('%Y%m%d%H%M%S', time.gmtime())}_bridge_schema_v{version}.sql"
    wanted = {SETUP: setup, current: migration(version, setup)}
    for release in released:
        wanted[MIGRATIONS / f"{release.migration}_bridge_schema_v{release.version}.sql"] = migration(
            release.version, release_setup(release))
    strays = [path for path in existing.values() if path not in wanted]
    stale = [path for path, text in wanted.items() if not path.is_file() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in strays:
            print(f"sql/build.py: {path.relative_to(REPO)} is no migration sql/releases.toml names", file=sys.stderr)
        for path in stale:
            print(f"sql/build.py: {path.relative_to(REPO)} is not what sql/ and sql/releases.toml build: run "
                  "python sql/build.py and commit it", file=sys.stderr)
        return 1 if stale or strays else 0
    if strays:
        raise SystemExit(f"sql/build.py: {strays[0].relative_to(REPO)} is no migration sql/releases.toml names; remove it")
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
