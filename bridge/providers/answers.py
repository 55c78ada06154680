"""A provider's own words about an answer, read out of its body: the code and the message, nothing else.

The shapes, from each provider's error documentation: `{"error": {"message",
"type" | "code" | "status", "details": [{"reason"}]}}` (OpenAI, Anthropic,
OpenRouter, and Google APIs' google.rpc.Status with ErrorInfo), OAuth 2.0's
`{"error": "...", "error_description": "..."}` (Google's and Microsoft's token
endpoints, RFC 6749 section 5.2), and AWS's query-API XML
`<ErrorResponse><Error><Code>..</Code><Message>..</Message>`. Bodies come from
the network and are hostile until shown otherwise: XML is read with two
bounded patterns, never a parser, and whatever is returned is still raw text
for one_line to redact.
"""

from __future__ import annotations

import json
import re
from html import unescape

_XML_FIELD = "<{0}>([^<]{{0,2000}})</{0}>"


def error_detail(body: bytes) -> str:
    """`code: message` from a JSON or XML error body; a plain-text body as it is; nothing from markup."""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        return _json_detail(text)
    if text.startswith("<"):
        return ": ".join(f for f in (xml_field(text, "Code"), xml_field(text, "Message")) if f)
    return text


def xml_field(text: str, tag: str) -> str:
    """The first <tag>...</tag> element's text, unescaped; empty when there is none."""
    match = re.search(_XML_FIELD.format(re.escape(tag)), text)
    return unescape(match.group(1)).strip() if match else ""


def _json_detail(text: str) -> str:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(doc, dict):
        return ""
    error = doc.get("error")
    if isinstance(error, str):  # OAuth 2.0
        return _joined(error, doc.get("error_description"))
    if not isinstance(error, dict):
        return ""
    details = error.get("details")
    reasons = [d.get("reason") for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    labels = [*reasons, error.get("code"), error.get("type"), error.get("status")]
    return _joined(next((label for label in labels if isinstance(label, str) and label), None), error.get("message"))


def _joined(label: object, message: object) -> str:
    words = [w for w in (label, message) if isinstance(w, str) and w]
    return ": ".join(words)
