"""AWS credentials, tested with STS GetCallerIdentity: it needs no IAM permission, so only the credentials decide.

AWS STS API reference (GetCallerIdentity: "No permissions are required to
perform this operation"), sent as the query API's form POST
`Action=GetCallerIdentity&Version=2011-06-15` to `{base}/`, signed with
Signature Version 4 for service `sts` in the credentials' region (sigv4).
Temporary credentials add X-Amz-Security-Token, signed like every header.
Refusals come as `<ErrorResponse>` XML: 403 InvalidClientTokenId (no such key),
SignatureDoesNotMatch (wrong secret), AccessDenied, and ExpiredToken (400 or
403) for temporary credentials past their time (Common Errors).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from bridge.core.secret_types import json_object
from bridge.providers import sigv4
from bridge.providers.answers import xml_field
from bridge.providers.endpoints import signing_region
from bridge.providers.provider import Provider, Request

SERVICE = "sts"
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def _request(value: str, base_url: str, now: float) -> Request:
    doc = json_object(value) or {}
    url = f"{base_url}/"
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    headers = {"host": urlsplit(url).netloc, "content-type": CONTENT_TYPE, "x-amz-date": amz_date}
    if "session_token" in doc:
        headers["x-amz-security-token"] = str(doc["session_token"])
    headers["authorization"] = sigv4.authorization(
        "POST", url, headers, BODY, str(doc["access_key_id"]), str(doc["secret_access_key"]),
        signing_region(value), SERVICE, amz_date,
    )
    return Request("POST", url, headers, BODY, secrets=(headers["authorization"].rsplit("=", 1)[1],))


def _identity(body: bytes) -> str:
    """The ARN the credentials belong to: which identity works is what a person wants to know."""
    return xml_field(body.decode("utf-8", "replace"), "Arn")


AWS = Provider("AWS STS", "credentials", frozenset({400, 403}), _request, accepted=_identity)
