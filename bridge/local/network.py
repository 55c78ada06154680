"""How this machine reaches a server over the network: the roots TLS trusts, and why a connection failed.

Supabase (bridge.vault) and the providers a secret is tested against
(bridge.providers) are sibling adapters that may not import each other, yet
must trust the same roots and explain a failure in the same words: both come
from here. certifi's bundle is the one httpx uses too, so the stdlib
transport and httpx agree on what they trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl


def transport_reason(exc: BaseException) -> str:
    """Why a connection failed, in words that point at the fix; never the exception's full text."""
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or type(exc).__name__.startswith("SSL"):
        return "TLS verification failed (check the URL, or the system clock and CA certificates)"
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "the host name does not resolve (check the URL)"
    if "Connection refused" in text or isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return type(exc).__name__


def tls_context(url: str) -> ssl.SSLContext:
    """A verifying context over certifi's roots; for plain-http URLs (localhost only) a CA-less one that can
    never trust a certificate."""
    import ssl

    if not url.startswith("https://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())
