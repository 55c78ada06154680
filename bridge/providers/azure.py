"""An Azure service principal, tested by asking Microsoft Entra ID for a token that is never shown.

Microsoft identity platform, "OAuth 2.0 client credentials flow" (first
case: access token request with a shared secret): POST
`{base}/{tenant_id}/oauth2/v2.0/token` with client_id, client_secret, scope
`https://management.azure.com/.default` and grant_type=client_credentials.
Refusals are OAuth 2.0 errors carrying AADSTS codes ("Microsoft Entra
authentication and authorization error codes"): 401 invalid_client with
AADSTS7000215 (wrong secret) or AADSTS7000222 (expired secret), 400 with
AADSTS90002 (no such tenant) or AADSTS700016 unauthorized_client (no such
application in the tenant). The shape check holds tenant_id to a GUID or a
domain name, so it is a single path segment.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from bridge.core.secret_types import json_object
from bridge.providers.provider import Provider, Request

SCOPE = "https://management.azure.com/.default"


def _request(value: str, base_url: str, now: float) -> Request:
    doc = json_object(value) or {}
    url = f"{base_url}/{quote(str(doc['tenant_id']), safe='')}/oauth2/v2.0/token"
    form = {"client_id": doc["client_id"], "client_secret": doc["client_secret"], "scope": SCOPE, "grant_type": "client_credentials"}
    return Request("POST", url, {"content-type": "application/x-www-form-urlencoded"}, urlencode(form).encode())


AZURE = Provider("Microsoft Entra ID", "credentials", frozenset({400, 401}), _request)
