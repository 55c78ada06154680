"""The rules of `bridge run`: which variable gets which id, which variables a child may not be given, and the
environment the child starts with. Pure: no files, no process; the verb reads and execs.

A mapping is `VAR=ID`: VAR a POSIX variable name, ID an exec id (`name#field` selects one field of a JSON
secret). An env file holds such lines and `#` comments, references only: an ID shaped like a key is refused,
since it can only be a value written where a name belongs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from bridge.core.credentials import ENV_KEYS, ENV_PUBLIC_KEYS, ENV_TOKEN
from bridge.core.errors import UsageError
from bridge.core.keys import looks_like_key
from bridge.core.limits import MAX_IDS
from bridge.core.refs import IdError, parse_ref

VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
TAKEOVER_NAMES = frozenset({
    # The shell and the program search path.
    "PATH", "HOME", "BASH_ENV", "ENV",
    # Interpreter search paths and option variables: perlrun(1) ENVIRONMENT, ruby(1) ENVIRONMENT and RubyGems,
    # node(1) ENVIRONMENT, the JDK's "Environment Variables" of the java launcher and the JVM TI agent docs.
    "PERL5LIB", "PERLLIB", "PERL5OPT", "PERL5DB", "RUBYLIB", "RUBYOPT", "GEM_PATH", "GEM_HOME", "BUNDLE_GEMFILE",
    "NODE_OPTIONS", "NODE_PATH", "NODE_EXTRA_CA_CERTS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
    "CLASSPATH", "JAVA_HOME",
    # glibc's UNSECURE_ENVVARS (sysdeps/generic/unsecvars.h): what the loader itself drops for setuid programs.
    "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH",
    "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
    # Where npx, npm and Node's package managers fetch code from besides npm_config_* (corepack's registry).
    "COREPACK_NPM_REGISTRY",
    # bash(1) "Shell Variables": SHELLOPTS/BASHOPTS turn on xtrace and friends in every bash child, PS4 is then
    # expanded (command substitution included) before each command, PROMPT_COMMAND runs in interactive shells.
    "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND",
    # Where config is read from: git reads $XDG_CONFIG_HOME/git/config (git-config(1) FILES), whose
    # core.fsmonitor, core.pager, core.sshCommand... run programs; so do npm, pip and uv's config files there.
    # A key from Vault is never a config directory, so both are refused (--allow-var where truly meant).
    "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS",
    # TLS trust: node(1) NODE_TLS_REJECT_UNAUTHORIZED, OpenSSL's openssl-env(7) (SSL_CERT_FILE, SSL_CERT_DIR,
    # OPENSSL_CONF, OPENSSL_MODULES, OPENSSL_ENGINES: a config or module loads code), Requests' and curl's CA
    # bundles: a man in the middle of every package download.
    "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_REPL_EXTERNAL_MODULE", "SSL_CERT_FILE", "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "OPENSSL_CONF", "OPENSSL_MODULES", "OPENSSL_ENGINES",
    # .NET's startup hooks and CLR profiler (docs: "host startup hook", "profiling: environment variables").
    "DOTNET_STARTUP_HOOKS", "CORECLR_PROFILER", "CORECLR_PROFILER_PATH", "CORECLR_ENABLE_PROFILING",
    # Rust: rustc's wrapper (The Cargo Book, "Environment variables"; CARGO_* below).
    "RUSTC_WRAPPER", "RUSTC", "RUSTC_WORKSPACE_WRAPPER", "RUSTUP_TOOLCHAIN", "RUSTUP_HOME",
    # Bun's registry (bun docs, "bunfig / environment variables"), Deno's module cache and trust store
    # (deno docs, "Environment variables").
    "BUN_CONFIG_REGISTRY", "BUN_INSTALL", "DENO_DIR", "DENO_CERT", "DENO_TLS_CA_STORE",
    # Go (`go help environment`): the module proxy, build flags, and a toolchain downloaded and run.
    "GOPROXY", "GOFLAGS", "GOTOOLCHAIN", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB", "GOINSECURE", "GOPATH", "GOROOT",
    # Docker's daemon and client config (docker(1) "Environment variables"): `docker run` talks to another daemon.
    "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT",
    # JVM launch options read by scripts (java, mvn(1) MAVEN_OPTS, gradle GRADLE_OPTS): -javaagent runs code.
    "JAVA_OPTS", "MAVEN_OPTS", "GRADLE_OPTS", "MAVEN_ARGS",
    # Lua's module paths (lua(1)), PHP's ini (php(1) PHPRC, PHP_INI_SCAN_DIR: auto_prepend_file runs code).
    "LUA_PATH", "LUA_CPATH", "LUA_INIT", "PHPRC", "PHP_INI_SCAN_DIR",
    # less(1) input preprocessor (a command), and the pager/editor programs git and others run.
    "LESSOPEN", "LESSCLOSE", "PAGER", "GIT_PAGER",
    # Python's active virtualenv: uv, pipx, poetry and the venv's tools run what it points at.
    "VIRTUAL_ENV", "CONDA_PREFIX",
})
TAKEOVER_PREFIXES = (
    "LD_", "DYLD_", "PYTHON", "GIT_",
    # npm reads every `npm_config_<key>` in any case as its config key <key> (npm's docs, "config": environment
    # variables): registry, @scope:registry, userconfig, script-shell, node-options... all of them decide what
    # `npx -y` fetches or runs.
    "NPM_CONFIG_",
    # pip reads every option as PIP_<OPTION> (pip's docs, "Configuration": environment variables): PIP_INDEX_URL,
    # PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_CONFIG_FILE...
    "PIP_",
    # uv and uvx read UV_* (uv's docs, "Environment variables"): UV_INDEX, UV_INDEX_URL, UV_DEFAULT_INDEX,
    # UV_EXTRA_INDEX_URL, UV_FIND_LINKS, UV_PYTHON, UV_CONFIG_FILE, UV_CACHE_DIR...
    "UV_",
    # Cargo reads CARGO_* as its config (The Cargo Book, "Environment variables": CARGO_HOME,
    # CARGO_BUILD_RUSTC_WRAPPER, CARGO_REGISTRIES_*...), Yarn YARN_* (yarnrc settings: YARN_NPM_REGISTRY_SERVER,
    # YARN_YARN_PATH...), pipx PIPX_* (PIPX_DEFAULT_PYTHON, PIPX_HOME...), Lua LUA_PATH_5_4 and such.
    "CARGO_", "YARN_", "PIPX_", "LUA_PATH_", "LUA_CPATH_", "LUA_INIT_",
)
TOKEN_SUFFIXES = ("_TOKEN", "_AUTH_TOKEN")
"""Under CARGO_ and YARN_, a *_TOKEN (CARGO_REGISTRY_TOKEN, YARN_NPM_AUTH_TOKEN) is a credential the child is
told, not where code comes from: given without --allow-var."""
TOKEN_PREFIXES = ("CARGO_", "YARN_")
"""Variables that change what the child runs or loads, or where its code comes from, not what it is told: given only
with --allow-var. Compared in upper case: npm reads its variables in any case, and on Windows every name is the same
variable in any case. The list and its sources are repeated in docs/run.md; this is the one the code uses."""
CLEAN_BASE = ("PATH", "HOME", "USER", "LANG", "TERM")
"""What --clean-env keeps of the parent's environment."""
BRIDGE_CREDENTIALS = (*ENV_KEYS, *ENV_PUBLIC_KEYS, ENV_TOKEN)
"""The bridge's own credentials: a child never inherits them. SUPABASE_URL is no credential, and a child such as
Supabase's MCP server needs it; a child that needs a key of its own gets it with --env, from Vault."""
MAX_MAPPINGS = MAX_IDS
"""All ids go in one resolve call, which takes at most this many."""
MAX_ENV_FILE_BYTES = 64 * 1024


class EnvMapping(NamedTuple):
    var: str
    ref_id: str
    origin: str
    """Where it was given (`--env` or FILE:LINE), for the one-line error about it."""


def parse_mapping(raw: str, origin: str) -> EnvMapping:
    var, sep, ref_id = raw.partition("=")
    var, ref_id = var.strip(), ref_id.strip()
    if not sep or not var or not ref_id:
        raise UsageError(f"{origin} {raw!r}: write VAR=ID, e.g. GITHUB_TOKEN=GITHUB_PERSONAL_ACCESS_TOKEN")
    if not VAR_NAME.fullmatch(var):
        raise UsageError(f"{origin}: {var!r} is not a variable name: use letters, digits and _, not starting with a digit")
    if looks_like_key(ref_id):
        raise UsageError(
            f"{origin}: {var}= holds what looks like a key, not a Vault name; store it with "
            f"`bridge secrets set {var}` and write {var}={var}"
        )
    try:
        parse_ref(ref_id)
    except IdError as exc:
        raise UsageError(f"{origin}: {var}: {exc}") from None
    return EnvMapping(var, ref_id, origin)


def parse_env_file(text: str, name: str) -> list[EnvMapping]:
    """The mappings of an env file: `VAR=ID` lines, blank lines and `#` comments; anything else is an error
    naming its line."""
    mappings: list[EnvMapping] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        mappings.append(parse_mapping(stripped, f"{name}:{number}"))
    return mappings


def takes_over(var: str) -> bool:
    upper = var.upper()
    if upper.startswith(TOKEN_PREFIXES) and upper.endswith(TOKEN_SUFFIXES):
        return False
    return upper in TAKEOVER_NAMES or upper.startswith(TAKEOVER_PREFIXES)


def check_mappings(mappings: list[EnvMapping], allowed: Iterable[str]) -> None:
    """Refuse a variable given twice, one that would take over the child unless allowed, and too many."""
    if not mappings:
        raise UsageError("nothing to resolve: give --env VAR=ID or --env-file FILE")
    if len(mappings) > MAX_MAPPINGS:
        raise UsageError(f"{len(mappings)} variables: bridge run resolves at most {MAX_MAPPINGS} in its one call")
    allow = set(allowed)
    seen: dict[str, str] = {}
    for mapping in mappings:
        if mapping.var in seen:
            raise UsageError(f"{mapping.origin}: {mapping.var} is already given at {seen[mapping.var]}; give each variable once")
        seen[mapping.var] = mapping.origin
        if takes_over(mapping.var) and mapping.var not in allow:
            raise UsageError(
                f"{mapping.origin}: {mapping.var} would change what the child runs or loads; "
                f"if that is meant, add --allow-var {mapping.var}"
            )


def child_environment(parent: Mapping[str, str], resolved: Mapping[str, str], clean: bool) -> dict[str, str]:
    """The parent's environment (or with `clean` only CLEAN_BASE of it) without the bridge's credentials, and the
    resolved variables on top: a child given SUPABASE_SERVICE_ROLE_KEY with --env gets Vault's, never the
    bridge's own."""
    if clean:
        base = {name: parent[name] for name in CLEAN_BASE if name in parent}
    else:
        base = {name: value for name, value in parent.items() if name not in BRIDGE_CREDENTIALS}
    return {**base, **resolved}
