"""Whether a value fits its type before it is stored: the core's rules, plus the one that needs a cipher library.

A service account's private_key must load as an RSA key (Google signs
service-account JWTs with RS256 only); the core can say it looks like PEM
but may not import cryptography to load it.
"""

from __future__ import annotations

from bridge.core.secret_types import json_object, shape_problem
from bridge.providers.gcp import load_private_key


def check_shape(secret_type: str, value: str) -> str | None:
    """None when the value fits `secret_type`, else one phrase naming the type and the field, never the value."""
    problem = shape_problem(secret_type, value)
    if problem is None and secret_type == "gcp-service-account":
        doc = json_object(value) or {}
        if load_private_key(str(doc["private_key"])) is None:
            return "gcp-service-account: private_key is not a PEM private key that loads (an unencrypted RSA key)"
    return problem
