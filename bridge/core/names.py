"""Secret names and tenants: what a name may be, and where a tenant's secret lives in Vault.

A secret's name is a ref id as it stands (the exec id rule) and never holds
`#`, which in a ref starts a field selector. That is what lets Vault carry a
tenant's secret as `TENANT#NAME` without any name being mistaken for another:
tenant `default` keeps plain names, so every secret stored before tenants
existed is in it, unchanged. setup.sql states the tenant rule once too
(vault_bridge.tenant_name_pattern); the tests compare the two.
"""

from __future__ import annotations

import re

from bridge.core.errors import UsageError
from bridge.core.refs import SELECTOR_SEPARATOR, id_problem

DEFAULT_TENANT = "default"
TENANT_SEPARATOR = SELECTOR_SEPARATOR
"""The same character on purpose: no name holds it, so `T#NAME` can never be a name of tenant default."""
TENANT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
TENANT_RULE = "a lowercase letter or digit, then up to 62 of a-z 0-9 _ -"


def name_problem(name: str) -> str | None:
    """Why a ref could not use this as a secret's name as it stands, or None."""
    problem = id_problem(name)
    if problem is None and SELECTOR_SEPARATOR in name:
        problem = "'#' is not allowed in a name: in a ref it starts a field selector (name#field)"
    return problem


def check_name(name: str) -> str:
    """--name or a form's name as given, or a UsageError saying why a ref could not use it."""
    problem = name_problem(name)
    if problem is not None:
        raise UsageError(f"secret name {name!r}: {problem}")
    return name


def tenant_problem(tenant: str) -> str | None:
    return None if TENANT_NAME.fullmatch(tenant) else f"use {TENANT_RULE}"


def check_tenant(tenant: str) -> str:
    """--tenant as given, or a UsageError saying the rule."""
    problem = tenant_problem(tenant)
    if problem is not None:
        raise UsageError(f"tenant {tenant!r}: {problem}")
    return tenant


def vault_name(tenant: str, name: str) -> str:
    """The name a tenant's secret has in Vault."""
    return name if tenant == DEFAULT_TENANT else f"{tenant}{TENANT_SEPARATOR}{name}"


def in_tenant(tenant: str, vault: str) -> str | None:
    """The name within `tenant` of a Vault name, or None when the secret belongs to another tenant."""
    if tenant == DEFAULT_TENANT:
        return None if TENANT_SEPARATOR in vault else vault
    prefix = tenant + TENANT_SEPARATOR
    return vault[len(prefix):] if vault.startswith(prefix) else None


def split_vault_name(vault: str) -> tuple[str, str]:
    """(tenant, name) of any Vault name: `T#NAME` is tenant T's, a plain name tenant default's."""
    tenant, sep, name = vault.partition(TENANT_SEPARATOR)
    return (tenant, name) if sep else (DEFAULT_TENANT, vault)
