"""The real Supabase CLI (npm `supabase`, pinned) for the migration tests: installed into .test-tools/ on first use
like OpenClaw, and run with its Node, offline, with a temporary HOME."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.openclaw import NODE_BIN, NODE_PACKAGE, QUIET_ENV, TOOLS, _npm_install

SUPABASE_PACKAGE = "supabase@2.117.0"
SUPABASE_ENTRY = Path("node_modules/supabase/dist/supabase.js")


@dataclass(frozen=True)
class SupabaseCli:
    node: Path
    entry: Path

    def run(self, args: list[str], cwd: Path, home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {"PATH": f"{self.node.parent}:/usr/bin:/bin", "HOME": str(home), **QUIET_ENV, "SUPABASE_TELEMETRY_DISABLED": "1"}
        return subprocess.run([str(self.node), str(self.entry), *args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)


def ensure_supabase_cli() -> SupabaseCli:
    """Node and the Supabase CLI under .test-tools/, installing whichever is missing (a few seconds)."""
    node = TOOLS / "node" / NODE_BIN
    _npm_install(NODE_PACKAGE, TOOLS / "node", NODE_BIN)
    _npm_install(SUPABASE_PACKAGE, TOOLS / "supabase", SUPABASE_ENTRY, path_prefix=node.parent)
    return SupabaseCli(node=node, entry=TOOLS / "supabase" / SUPABASE_ENTRY)
