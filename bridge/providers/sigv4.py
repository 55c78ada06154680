"""AWS Signature Version 4 for one request, with hashlib and hmac only.

As the AWS General Reference ("Create a signed AWS API request") describes
it: a canonical request (method, URI, sorted query, lower-cased sorted
headers with their values' whitespace collapsed, the signed header names,
the body's SHA-256), a string to sign (algorithm, timestamp, credential scope
`date/region/service/aws4_request`, the canonical request's SHA-256), a key
derived by HMAC-SHA256 from "AWS4" + secret through the date, region and
service, and the signature over the string to sign. The tests hold it to
AWS's published get-vanilla and post-vanilla vectors.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
_UNRESERVED = "-_.~"


def authorization(
    method: str, url: str, headers: Mapping[str, str], body: bytes,
    access_key_id: str, secret_access_key: str, region: str, service: str, amz_date: str,
) -> str:
    """The Authorization header for a request that sends exactly `headers` (all of them signed, Host among them)
    and `body`, at `amz_date` (the X-Amz-Date value, `YYYYMMDDTHHMMSSZ`)."""
    canonical_headers = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    signed = ";".join(sorted(canonical_headers))
    parts = urlsplit(url)
    canonical = "\n".join((
        method,
        quote(parts.path or "/", safe="/" + _UNRESERVED),
        "&".join(sorted(f"{_encoded(k)}={_encoded(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True))),
        "".join(f"{name}:{canonical_headers[name]}\n" for name in sorted(canonical_headers)),
        signed,
        hashlib.sha256(body).hexdigest(),
    ))
    scope = f"{amz_date[:8]}/{region}/{service}/{TERMINATOR}"
    string_to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    key = signing_key(secret_access_key, amz_date[:8], region, service)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={signed}, Signature={signature}"


def _encoded(text: str) -> str:
    return quote(text, safe=_UNRESERVED)


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_access_key}".encode()
    for step in (date, region, service, TERMINATOR):
        key = hmac.new(key, step.encode(), hashlib.sha256).digest()
    return key
