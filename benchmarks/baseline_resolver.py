"""The baseline: a stdlib-only exec provider doing the same single RPC as `bridge resolve`.

No validation, no selectors, no retries, no keyring: the least a resolver can
do. The benchmark compares the bridge's cold start against this.
"""

import json
import os
import sys
import urllib.request


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    ids = request["ids"]
    http_request = urllib.request.Request(
        os.environ["SUPABASE_URL"] + "/rest/v1/rpc/resolve_secrets",
        data=json.dumps({"p_names": ids}).encode(),
        headers={"apikey": os.environ["SUPABASE_SECRET_KEY"], "content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(http_request, timeout=4) as answer:
        found = json.loads(answer.read())
    values = {i: found[i] for i in ids if i in found}
    errors = {i: {"message": "not found"} for i in ids if i not in found}
    sys.stdout.write(json.dumps({"protocolVersion": 1, "values": values, "errors": errors}))


main()
