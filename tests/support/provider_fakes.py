"""Loopback servers that answer as each provider documents, for `bridge secrets test`.

Each fake checks what the real endpoint checks (method, path, the headers
that carry the credential, the form fields) and answers with that provider's
documented statuses and body shapes. Like the real ones, their errors quote
what they were sent: OpenAI's "Incorrect API key provided: sk-proj-****wxyz"
(masked, or whole with `echo="full"`), the account's email from Google, the
access key id from AWS, the client and tenant ids from Microsoft; the
API-key fakes quote the key as OpenAI does, as a proxy in front of any of
them might. The GCP fake verifies the assertion's RS256 signature with the
account's public key; the AWS fake recomputes the SigV4 signature with its
own code and the secret it knows, so a signer bug cannot agree with itself.

`mode` switches any fake to a failure: a status (a 5xx whose body echoes the
whole request: headers, form and all), "redirect", or "drip" (the answer a
byte at a time, far slower than any deadline). Every drip ends by itself.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from bridge.core.secret_types import secret_parts
from tests.support.sockets import HttpServer, Seen, http_response, loopback_listener

DRIP_INTERVAL_S = 0.5
DRIP_LIMIT_S = 30.0
GCP_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GCP_ACCESS_TOKEN = "ya29.c.FAKE-ACCESS-TOKEN-never-shown-0123456789"
AZURE_SCOPE = "https://management.azure.com/.default"
AZURE_ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.FAKE-AZURE-TOKEN.never-shown"
AWS_ARN = "arn:aws:iam::123456789012:user/bridge-test"
AWS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"

Reply = tuple[int, bytes]
_PLAIN_HEADERS = frozenset({"host", "connection", "user-agent", "accept", "accept-encoding", "content-length", "content-type"})
"""Left out of a 5xx's echo of the request, so what carries the credential comes first."""


def _json(doc: object) -> bytes:
    return json.dumps(doc).encode()


def _form(seen: Seen) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(seen.body.decode(), keep_blank_values=True).items()}


def masked(key: str) -> str:
    """A key as OpenAI quotes it: the first 8 and the last 4 characters, stars between."""
    return key[:8] + "*" * max(4, len(key) - 12) + key[-4:]


class ProviderFake(HttpServer):
    def __init__(self) -> None:
        self.mode: str | int = "answer"
        self.requests: list[Seen] = []
        # Mode "hold": a request sets `arrived` and is answered only once the test sets `released` (or stops the fake).
        self.arrived = threading.Event()
        self.released = threading.Event()
        super().__init__()

    def stop(self) -> None:
        self.released.set()
        super().stop()

    def respond(self, seen: Seen) -> Reply:
        raise NotImplementedError

    def answer(self, conn: socket.socket, seen: Seen) -> None:
        self.requests.append(seen)
        mode = self.mode
        if mode == "hold":
            self.arrived.set()
            self.released.wait()
            mode = "answer"
        if mode == "drip":
            self._drip(conn)
        elif mode == "redirect":
            conn.sendall(http_response(302, b"", f"Location: {self.url}/elsewhere\r\n"))
        elif isinstance(mode, int):
            sent = {k: v for k, v in seen.headers.items() if k not in _PLAIN_HEADERS}
            echo = {"body": seen.body.decode("latin-1"), "headers": sent}
            conn.sendall(http_response(mode, _json({"error": {"message": f"upstream failed for {json.dumps(echo)}", "type": "server_error"}})))
        else:
            status, body = self.respond(seen)
            conn.sendall(http_response(status, body))

    def _drip(self, conn: socket.socket) -> None:
        ends = time.monotonic() + DRIP_LIMIT_S
        for byte in http_response(200, b'{"data": []}'):
            if self._closed.is_set() or time.monotonic() > ends:
                return
            conn.sendall(bytes([byte]))
            time.sleep(DRIP_INTERVAL_S)


def _not_found(seen: Seen) -> Reply:
    return 404, _json({"error": {"message": f"Invalid URL ({seen.method} {seen.path})", "type": "invalid_request_error"}})


class OpenAIFake(ProviderFake):
    """OpenAI's API reference: Bearer auth; 401 invalid_api_key quoting the key masked."""

    def __init__(self, key: str, echo: str = "masked", echo_as: Callable[[str], str] | None = None) -> None:
        self.key, self.echo, self.echo_as = key, echo, echo_as
        super().__init__()

    def respond(self, seen: Seen) -> Reply:
        if (seen.method, seen.path) != ("GET", "/v1/models"):
            return _not_found(seen)
        given = seen.headers.get("authorization", "").removeprefix("Bearer ")
        if given == self.key:
            return 200, _json({"object": "list", "data": [{"id": "gpt-4o", "object": "model", "owned_by": "system"}]})
        shown = self.echo_as(given) if self.echo_as else given if self.echo == "full" else masked(given)
        message = f"Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com/account/api-keys."
        return 401, _json({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})


class AnthropicFake(ProviderFake):
    """Anthropic's errors: `{"type": "error", "error": {"type", "message"}}`; 401 authentication_error, and the
    version header required."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__()

    def respond(self, seen: Seen) -> Reply:
        if (seen.method, seen.path) != ("GET", "/v1/models?limit=1"):
            return _not_found(seen)
        if seen.headers.get("anthropic-version") != "2023-06-01":
            return 400, _json({"type": "error", "error": {"type": "invalid_request_error", "message": "anthropic-version: header is required"}})
        given = seen.headers.get("x-api-key", "")
        if given == self.key:
            return 200, _json({"data": [{"type": "model", "id": "claude-sonnet-4-5"}], "has_more": True})
        return 401, _json({"type": "error", "error": {"type": "authentication_error", "message": f"invalid x-api-key {masked(given)}"}})


class GeminiFake(ProviderFake):
    """Google APIs' google.rpc.Status: an invalid key is 400 INVALID_ARGUMENT with ErrorInfo reason
    API_KEY_INVALID; a key barred from the API is 403 PERMISSION_DENIED."""

    def __init__(self, key: str, barred: str = "") -> None:
        self.key, self.barred = key, barred
        super().__init__()

    def respond(self, seen: Seen) -> Reply:
        if (seen.method, seen.path) != ("GET", "/v1beta/models?pageSize=1"):
            return _not_found(seen)
        given = seen.headers.get("x-goog-api-key", "")
        if given == self.key:
            return 200, _json({"models": [{"name": "models/gemini-2.5-flash"}], "nextPageToken": "x"})
        if given == self.barred:
            message = f"Requests from this API key {given} are blocked."
            return 403, _json({"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}})
        info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}}
        message = f"API key not valid. Please pass a valid API key. ({given})"
        return 400, _json({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": [info]}})


class OpenRouterFake(ProviderFake):
    """OpenRouter's Get current API key: the key's details (its label is the key, masked), or 401."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__()

    def respond(self, seen: Seen) -> Reply:
        if (seen.method, seen.path) != ("GET", "/api/v1/key"):
            return _not_found(seen)
        given = seen.headers.get("authorization", "").removeprefix("Bearer ")
        if given == self.key:
            label = f"{given[:11]}...{given[-3:]}"
            return 200, _json({"data": {"label": label, "usage": 0, "limit": None, "is_free_tier": False}})
        return 401, _json({"error": {"message": f"User not found for key {given[:11]}...{given[-3:]}.", "code": 401}})


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class GcpFake(ProviderFake):
    """Google's OAuth 2.0 token endpoint for service accounts: the JWT bearer grant, its signature verified with
    the account's public key and its claims with Google's rules; OAuth errors quote the account."""

    def __init__(self, public_key: rsa.RSAPublicKey, email: str, key_id: str) -> None:
        self.public_key, self.email, self.key_id = public_key, email, key_id
        self.claims: dict[str, Any] = {}
        self.header: dict[str, Any] = {}
        super().__init__()

    def respond(self, seen: Seen) -> Reply:
        if (seen.method, seen.path) != ("POST", "/token"):
            return _not_found(seen)
        form = _form(seen)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, _json({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        try:
            head, claims, signature = form.get("assertion", "").split(".")
            self.header, self.claims = json.loads(_b64decode(head)), json.loads(_b64decode(claims))
        except ValueError:
            return 400, _json({"error": "invalid_request", "error_description": "Invalid JWT."})
        who = self.claims.get("iss")
        try:
            self.public_key.verify(_b64decode(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return 400, _json({"error": "invalid_grant", "error_description": f"Invalid JWT Signature. (account {who})"})
        return self._judge_claims(who)

    def _judge_claims(self, who: object) -> Reply:
        claims, now = self.claims, time.time()
        if self.header != {"alg": "RS256", "typ": "JWT", "kid": self.key_id}:
            return 400, _json({"error": "invalid_grant", "error_description": f"Invalid JWT header for {who}."})
        if who != self.email:
            return 400, _json({"error": "invalid_grant", "error_description": f"Invalid grant: account not found ({who})"})
        if claims.get("aud") != f"{self.url}/token":
            return 400, _json({"error": "invalid_grant", "error_description": f"Invalid JWT: aud is not the token endpoint ({who})"})
        if claims.get("scope") != GCP_SCOPE:
            return 400, _json({"error": "invalid_scope", "error_description": f"Invalid OAuth scope for {who}."})
        iat, exp = claims.get("iat"), claims.get("exp")
        if not (isinstance(iat, int) and isinstance(exp, int) and iat - 60 <= now < exp and exp - iat <= 3600):
            description = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
            return 400, _json({"error": "invalid_grant", "error_description": f"{description} ({who})"})
        return 200, _json({"access_token": GCP_ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"})


_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})")


def _aws_error(status: int, code: str, message: str) -> Reply:
    body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>4fd2-fake</RequestId></ErrorResponse>")
    return status, body.encode()


class AwsFake(ProviderFake):
    """STS GetCallerIdentity behind SigV4: the credential scope, the signed headers and the signature are checked
    as AWS does; errors are STS's XML, quoting the access key id."""

    def __init__(self, access_key_id: str, secret: str, region: str = "us-east-1", session_token: str = "") -> None:
        self.access_key_id, self.secret, self.region, self.session_token = access_key_id, secret, region, session_token
        super().__init__()

    def respond(self, seen: Seen) -> Reply:
        if (seen.method, seen.path) != ("POST", "/"):
            return _not_found(seen)
        match = _AUTH.fullmatch(seen.headers.get("authorization", ""))
        if match is None:
            return _aws_error(403, "IncompleteSignature", "Authorization header requires a valid Credential, SignedHeaders and Signature.")
        key_id, date, region, service, signed, signature = match.groups()
        if key_id != self.access_key_id:
            return _aws_error(403, "InvalidClientTokenId", f"The security token included in the request is invalid. ({key_id})")
        if (date, region, service) != (seen.headers.get("x-amz-date", "")[:8], self.region, "sts"):
            return _aws_error(403, "SignatureDoesNotMatch", f"Credential should be scoped to a valid region, not '{region}'. ({key_id})")
        needed = {"host", "x-amz-date", *(["x-amz-security-token"] if self.session_token else [])}
        if not needed <= set(signed.split(";")) or seen.headers.get("x-amz-security-token", "") != self.session_token:
            return _aws_error(403, "InvalidClientTokenId", f"The security token included in the request is invalid. ({key_id})")
        if not hmac.compare_digest(signature, self._signature(seen, signed)):
            return _aws_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. "
                              f"Check your AWS Secret Access Key and signing method. ({key_id})")
        if seen.body != AWS_BODY:
            return _aws_error(400, "InvalidAction", "Could not find operation for this request.")
        body = (f'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
                f"<Arn>{AWS_ARN}</Arn><UserId>AIDAFAKEUSERID0000000</UserId><Account>123456789012</Account>"
                "</GetCallerIdentityResult></GetCallerIdentityResponse>")
        return 200, body.encode()

    def _signature(self, seen: Seen, signed: str) -> str:
        """SigV4 as the server side computes it, from the request as it arrived."""
        names = signed.split(";")
        canonical = "\n".join([
            seen.method, seen.path, "",
            "".join(f"{n}:{' '.join(seen.headers.get(n, '').split())}\n" for n in names),
            signed, hashlib.sha256(seen.body).hexdigest(),
        ])
        amz_date = seen.headers["x-amz-date"]
        scope = f"{amz_date[:8]}/{self.region}/sts/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = ("AWS4" + self.secret).encode()
        for step in (amz_date[:8], self.region, "sts", "aws4_request"):
            key = hmac.new(key, step.encode(), hashlib.sha256).digest()
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _aadsts(status: int, error: str, code: int, description: str) -> Reply:
    return status, _json({"error": error, "error_description": f"AADSTS{code}: {description} Trace ID: 0000 Timestamp: 2025-01-01 00:00:00Z",
                          "error_codes": [code], "trace_id": "0000", "correlation_id": "0000"})


class AzureFake(ProviderFake):
    """Microsoft Entra ID's client-credentials token endpoint, with its AADSTS errors (which quote the ids)."""

    def __init__(self, tenant_id: str, client_id: str, secret: str) -> None:
        self.tenant_id, self.client_id, self.secret = tenant_id, client_id, secret
        super().__init__()

    def respond(self, seen: Seen) -> Reply:
        match = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", urlsplit(seen.path).path)
        if seen.method != "POST" or match is None:
            return _not_found(seen)
        tenant, form = match.group(1), _form(seen)
        if tenant != self.tenant_id:
            return _aadsts(400, "invalid_request", 90002, f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.")
        if form.get("grant_type") != "client_credentials":
            return _aadsts(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("scope") != AZURE_SCOPE:
            return _aadsts(400, "invalid_scope", 1002012, "The provided value for scope is not valid.")
        client = form.get("client_id", "")
        if client != self.client_id:
            return _aadsts(400, "unauthorized_client", 700016,
                           f"Application with identifier '{client}' was not found in the directory '{tenant}'.")
        if form.get("client_secret") != self.secret:
            return _aadsts(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request "
                           f"is the client secret value, not the client secret ID, for a secret added to app '{client}'.")
        return 200, _json({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": AZURE_ACCESS_TOKEN})


class TlsOpenAIFake(OpenAIFake):
    """The OpenAI fake behind TLS with a certificate no public root vouches for."""

    def __init__(self, key: str, context: ssl.SSLContext) -> None:
        self._tls = context
        super().__init__(key)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        try:
            wrapped = self._tls.wrap_socket(conn, server_side=True)
        except OSError:
            conn.close()
            return
        super().handle(wrapped)


def closed_port_url() -> str:
    """A loopback URL nothing listens on any more: connections to it are refused."""
    listener, port = loopback_listener()
    listener.close()
    return f"http://127.0.0.1:{port}"


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server context for 127.0.0.1 with a fresh self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(rsa_pem(key).encode())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


def rsa_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def service_account(key: rsa.RSAPrivateKey, email: str, key_id: str) -> str:
    """A service-account key file as the Google Cloud console downloads it."""
    return json.dumps({
        "type": "service_account", "project_id": "bridge-test", "private_key_id": key_id, "private_key": rsa_pem(key),
        "client_email": email, "client_id": "100000000000000000001", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token", "universe_domain": "googleapis.com",
    })


def leaks(secret_type: str, value: str, text: str) -> list[str]:
    """Every 8 characters of the value that `text` still holds: the whole value, and each run of 8 from each
    part of it that is the value's own (not a JSON value's field names, not PEM armour, not "service_account")."""
    found = [value] if value and value in text else []
    for part in secret_parts(secret_type, value):
        if (part == value and value.lstrip().startswith("{")) or "-----BEGIN" in part or part == "service_account":
            continue
        found += [part[i : i + 8] for i in range(len(part) - 7) if part[i : i + 8] in text]
    return found
