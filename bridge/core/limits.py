"""The limits other systems set, each written once; everything that must stay within one reads it here.

The same numbers appear in setup.sql, which states them as its own functions
(section 3): the tests compare the two.
"""

from __future__ import annotations

PROTOCOL_VERSION = 1
"""The OpenClaw exec provider protocol this bridge speaks."""
MAX_IDS = 512
"""OpenClaw's maxRefsPerProvider: at most this many ids in one request, and so in one resolve_secrets call
(setup.sql's max_names_per_call)."""
MAX_REQUEST_BYTES = 256 * 1024
"""OpenClaw's maxBatchBytes."""
MAX_RESPONSE_BYTES = 1024 * 1024
"""OpenClaw's maxOutputBytes: a longer response fails the whole resolution."""
MAX_ID_CHARS = 256
"""OpenClaw's exec id rule allows at most this many characters (setup.sql's max_name_chars)."""
GATEWAY_TIMEOUT_MS = 5000
"""OpenClaw's default timeoutMs for an exec provider: the gateway kills the bridge after it."""
