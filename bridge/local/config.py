"""Settings from one TOML file, validated on load so a typo fails loudly instead of silently using a default."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from bridge.core.credentials import LOCAL_HOSTS
from bridge.core.durations import format_age, parse_duration
from bridge.core.errors import ConfigError
from bridge.core.secret_types import DEFAULT_TYPE, SECRET_TYPES

if TYPE_CHECKING:
    from bridge.core.edge_names import Entry

MAX_GATEWAY_TIMEOUT_S = 600.0
MAX_ADMIN_DEADLINE_S = 600.0
MAX_KEEP_S = 366 * 86400.0
"""Longest max_stale or cache_ttl: a year is already far past any sane offline window."""
MAX_CONFIG_BYTES = 64 * 1024
TIMING_KEYS = ("deadline", "connect_timeout", "read_timeout")
PROVIDERS_KEY = "providers"
PROVIDER_KEYS = ("base_url",)
EDGE_KEY = "edge"
EDGE_KEYS = ("names", "api_url", "project_ref")
NOTIFY_KEY = "notify"
NOTIFY_KEYS = ("webhook",)
TABLE_KEYS = (PROVIDERS_KEY, EDGE_KEY, NOTIFY_KEY)
DEFAULT_MANAGEMENT_API = "https://api.supabase.com"
"""Supabase's Management API, where Edge Function secrets live (`[edge] api_url` replaces it, for tests)."""
MAX_EDGE_NAMES = 100
"""More than any project's Edge secrets; each costs a Vault read per sync."""
TESTABLE_TYPES = tuple(t for t in SECRET_TYPES if t != DEFAULT_TYPE)
"""The secret types a provider can be asked about, so the types a `[providers.<type>]` table may name."""


class EdgeSettings(NamedTuple):
    """`[edge]`: which Vault secrets `bridge edge sync` copies to the project's Edge Function secrets."""

    names: tuple[Entry, ...] = ()
    """`EDGE_NAME`, `EDGE_NAME=VAULT_NAME` or a glob over Vault names, parsed and checked once, here."""
    api_url: str = DEFAULT_MANAGEMENT_API
    project_ref: str | None = None
    """The project whose Edge secrets these are, when SUPABASE_URL is not https://<ref>.supabase.co."""


class NotifySettings(NamedTuple):
    """`[notify]`: where alerts and due rotations are posted."""

    webhook: str | None = None
    """The name of the Vault secret that holds the webhook URL; the URL itself is never in a file."""


class Config(NamedTuple):
    deadline: float = 4.0
    """Seconds within which `bridge resolve` always answers; below OpenClaw's default 5 s kill."""
    connect_timeout: float = 1.5
    """Seconds allowed to open the connection to Supabase (each attempt, capped by the deadline)."""
    read_timeout: float = 3.0
    """Seconds allowed between bytes from Supabase (each attempt, capped by the deadline)."""
    max_stale: float = 7 * 86400.0
    """Oldest cached value served when Supabase cannot answer; 0 disables the cache."""
    cache_ttl: float = 0.0
    """Serve a cached value younger than this without asking Supabase; 0 always asks first."""
    gateway_timeout: float = 5.0
    """The provider's timeoutMs in OpenClaw, after which the gateway kills the bridge; the limits above stay below it."""
    admin_deadline: float = 30.0
    """Seconds within which each call to Supabase made by a person's command (the admin verbs, login, doctor,
    migrate) ends, however slowly the server answers: a person waits longer than a gateway, but not for ever."""
    providers: Mapping[str, str] = MappingProxyType({})
    """Secret type -> the base URL `bridge secrets test` calls instead of the provider's public endpoint
    (`[providers.<type>] base_url`), for a proxy or a test server."""
    edge: EdgeSettings = EdgeSettings()
    notify: NotifySettings = NotifySettings()


def parse_config(doc: dict[str, object], source: str = "config") -> Config:
    known = set(Config._fields)
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
    durations = {key: parse_duration(key, raw) for key, raw in doc.items() if key not in TABLE_KEYS}
    config = Config(
        **durations, providers=_parse_providers(doc.get(PROVIDERS_KEY, {}), source),
        edge=_parse_edge(doc[EDGE_KEY], source) if EDGE_KEY in doc else EdgeSettings(), notify=_parse_notify(doc.get(NOTIFY_KEY, {}), source),
    )
    if not 0 < config.gateway_timeout <= MAX_GATEWAY_TIMEOUT_S:
        raise ConfigError(f"{source}: gateway_timeout must be above 0 and at most {MAX_GATEWAY_TIMEOUT_S:g}s; set it to the provider's timeoutMs")
    for key in TIMING_KEYS:
        seconds = getattr(config, key)
        if not 0 < seconds < config.gateway_timeout:
            raise ConfigError(
                f"{source}: {key} = {seconds:g}s is out of range; it must be above 0 and below the gateway's "
                f"{config.gateway_timeout:g}s timeout (gateway_timeout; the default {key} is {Config._field_defaults[key]:g}s)"
            )
    if not 0 < config.admin_deadline <= MAX_ADMIN_DEADLINE_S:
        raise ConfigError(f"{source}: admin_deadline must be above 0 and at most {MAX_ADMIN_DEADLINE_S:g}s; the default is 30s")
    for key in ("max_stale", "cache_ttl"):
        if getattr(config, key) > MAX_KEEP_S:
            raise ConfigError(f"{source}: {key} is longer than {MAX_KEEP_S / 86400:g} days; use e.g. \"7d\"")
    if config.cache_ttl > config.max_stale:
        raise ConfigError(
            f"{source}: cache_ttl ({format_age(config.cache_ttl)}) is longer than max_stale ({format_age(config.max_stale)}); "
            "the cache would serve values it is meant to have dropped: lower cache_ttl"
        )
    return config


def _parse_providers(table: object, source: str) -> Mapping[str, str]:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: providers must be a table of [providers.<type>] tables; known types: {', '.join(TESTABLE_TYPES)}")
    urls: dict[str, str] = {}
    for secret_type, settings in table.items():
        if secret_type not in TESTABLE_TYPES:
            raise ConfigError(f"{source}: unknown provider type [providers.{secret_type}]; known types: {', '.join(TESTABLE_TYPES)}")
        if not isinstance(settings, dict):
            raise ConfigError(f"{source}: providers.{secret_type} must be a table: [providers.{secret_type}] base_url = \"https://...\"")
        unknown = sorted(set(settings) - set(PROVIDER_KEYS))
        if unknown:
            raise ConfigError(f"{source}: unknown key {unknown[0]!r} in [providers.{secret_type}]; known keys: {', '.join(PROVIDER_KEYS)}")
        if "base_url" in settings:
            urls[secret_type] = provider_base_url(secret_type, settings["base_url"], source)
    return MappingProxyType(urls)


def _table(table: object, key: str, known: tuple[str, ...], source: str) -> dict[str, object]:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {key} must be a table: [{key}] then {known[0]} = ...")
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} in [{key}]; known keys: {', '.join(known)}")
    return table


def _parse_edge(table: object, source: str) -> EdgeSettings:
    # Imported here: every `bridge resolve` reads this file, and only a config with [edge] needs the Edge rules.
    from bridge.core.edge_names import check_project_ref, parse_entry

    settings = _table(table, EDGE_KEY, EDGE_KEYS, source)
    names = settings.get("names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ConfigError(f'{source}: [edge] names must be a list of names, e.g. names = ["OPENAI_API_KEY", "STRIPE_KEY=stripe_live"]')
    if len(names) > MAX_EDGE_NAMES:
        raise ConfigError(f"{source}: [edge] names lists more than {MAX_EDGE_NAMES} entries; use a glob such as \"edge_*\"")
    entries = tuple(parse_entry(entry, f"{source}: [edge] names") for entry in names)
    api_url = DEFAULT_MANAGEMENT_API
    if "api_url" in settings:
        api_url = outbound_url(settings["api_url"], f"{source}: [edge] api_url", "https://api.supabase.com")
    ref = settings.get("project_ref")
    if ref is not None:
        ref = check_project_ref(ref, f"{source}: [edge] project_ref")
    return EdgeSettings(names=entries, api_url=api_url, project_ref=ref)


def _parse_notify(table: object, source: str) -> NotifySettings:
    settings = _table(table, NOTIFY_KEY, NOTIFY_KEYS, source)
    webhook = settings.get("webhook")
    if webhook is None:
        return NotifySettings()
    from bridge.core.names import name_problem

    problem = name_problem(webhook) if isinstance(webhook, str) else "it must be a string"
    if problem is not None or not isinstance(webhook, str):
        raise ConfigError(
            f"{source}: [notify] webhook names the Vault secret that holds the webhook URL ({problem}); "
            'e.g. webhook = "SLACK_WEBHOOK_URL", then `bridge secrets set SLACK_WEBHOOK_URL`'
        )
    if "://" in webhook:
        raise ConfigError(f"{source}: [notify] webhook must name a Vault secret, never hold the URL: store it with `bridge secrets set`")
    return NotifySettings(webhook=webhook)


def outbound_url(raw: object, where: str, example: str) -> str:
    """A base URL the bridge sends a credential to, without a trailing slash: https, or plain http for this
    machine only, and nothing but a scheme, host, port and path."""
    parts = urlsplit(raw.strip()) if isinstance(raw, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"{where} must be a URL like \"{example}\"")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise ConfigError(f"{where}: refusing plain http for {parts.hostname}; use https:// (http is allowed only for localhost)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{where} must not contain credentials, a query or a fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def provider_base_url(secret_type: str, raw: object, source: str = "config") -> str:
    """A provider's base URL without a trailing slash, held to the Supabase URL's rule: https, or plain http
    for this machine only, and nothing but a scheme, host, port and path."""
    return outbound_url(raw, f"{source}: [providers.{secret_type}] base_url", "https://proxy.example")


def load_config(path: Path) -> Config:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path} is larger than {MAX_CONFIG_BYTES // 1024} KiB; it holds a handful of settings: see config/config.toml")
    import tomllib

    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix it or delete it to use the defaults") from None
    return parse_config(doc, source=str(path))
