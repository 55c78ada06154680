"""A Google Cloud service account, tested by exchanging a signed JWT for an access token that is never shown.

Google's "Using OAuth 2.0 for Server to Server Applications" ("Preparing to
make an authorized API call" with HTTP/REST): a JWT with header `{"alg":
"RS256", "typ": "JWT", "kid": private_key_id}` and claims iss = client_email,
scope, aud = the token endpoint, iat and exp (at most one hour after iat),
signed RS256 with the account's private key and POSTed as
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=...` to
`{base}/token`. The key file's own `token_uri` is never used: a key file
could name any host, and would receive a signed assertion. Refusals are
OAuth 2.0 errors: 400 invalid_grant (a bad signature, a deleted key, an
unknown account), 401 invalid_client, 403 for an account that may not.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bridge.core.secret_types import json_object
from bridge.providers.provider import Provider, Request

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600
"""Google's maximum, as its client libraries use: the assertion is redacted like the key, so its life does not
widen what an echo could give away."""


def load_private_key(pem: str) -> rsa.RSAPrivateKey | None:
    """The RSA key a PEM string holds, unencrypted; None for anything else."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, rsa.RSAPrivateKey) else None


def assertion(value: str, audience: str, now: float) -> str:
    doc = json_object(value) or {}
    key = load_private_key(str(doc["private_key"]))
    if key is None:
        raise ValueError("private_key does not load; check_shape refuses such a value before any request")
    header = {"alg": "RS256", "typ": "JWT", "kid": doc["private_key_id"]}
    issued = int(now)
    claims = {"iss": doc["client_email"], "scope": SCOPE, "aud": audience, "iat": issued, "exp": issued + ASSERTION_LIFETIME_S}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _request(value: str, base_url: str, now: float) -> Request:
    token_url = f"{base_url}/token"
    signed = assertion(value, token_url, now)
    body = urlencode({"grant_type": GRANT_TYPE, "assertion": signed}).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return Request("POST", token_url, headers, body, secrets=(signed, signed.rsplit(".", 1)[1]))


GCP = Provider("Google OAuth", "service account", frozenset({400, 401, 403}), _request)
