"""`bridge login` and `bridge logout`: put the bootstrap credentials in one store, or take them out of all."""

from __future__ import annotations

import argparse
import socket
from typing import TextIO

from bridge import SCHEMA_VERSION
from bridge.app.context import Context
from bridge.app.verbs import Verb
from bridge.core.credentials import ENV_KEYS, ENV_URL, Credentials, normalize_url
from bridge.core.deadline import Deadline
from bridge.core.errors import BridgeError, UsageError
from bridge.core.keys import LEGACY_JWT, classify_key, redact_key
from bridge.credentials.base import CredentialStore, StoreUnavailable
from bridge.credentials.os_keyring import KeyringStore
from bridge.credentials.sealed import SealedFileStore
from bridge.vault.client import connect
from bridge.vault.errors import SetupMissing

LEGACY_WARNING = (
    "warning: legacy service_role JWT keys are being retired by the end of 2026; "
    "create a secret key (sb_secret_...) under Project Settings > API Keys and log in again"
)


def read_key(stdin: TextIO, what: str = "Supabase secret key (sb_secret_... or service_role)") -> str:
    """The key (or gateway token) from a pipe, or from a hidden prompt on a terminal: never from argv."""
    if stdin.isatty():
        import getpass

        key = getpass.getpass(f"{what}: ")
    else:
        key = stdin.readline()
    key = key.strip()
    if not key:
        raise BridgeError("no key given: pipe it on stdin (e.g. `bridge login --url URL < keyfile`) or type it at the prompt")
    return key


def check_with_server(credentials: Credentials, out: TextIO, deadline: Deadline) -> None:
    """Prove the key (or the gateway token) works before storing it; say whether setup.sql is there yet."""
    try:
        with connect(
            credentials, provider="login", host=socket.gethostname(),
            connect_timeout=5.0, read_timeout=10.0, deadline=deadline,
        ) as client:
            if credentials.token:
                # A token may resolve, nothing else: an empty batch proves it without reading a secret.
                client.resolve_secrets([])
                print("gateway token accepted", file=out)
                return
            installed = client.version()
    except SetupMissing:
        print("key accepted; setup.sql is not installed yet: paste it into the Supabase SQL editor and run it", file=out)
        return
    if installed == SCHEMA_VERSION:
        print(f"key accepted; setup.sql schema version {installed} is installed", file=out)
    else:
        print(
            f"key accepted; setup.sql schema version {installed} is installed but this bridge expects "
            f"{SCHEMA_VERSION}: paste the current setup.sql into the SQL editor and run it",
            file=out,
        )


def login(url: str, store: str | None, stdin: TextIO, ctx: Context, publishable_key: str | None = None) -> int:
    out, err, env = ctx.out, ctx.err, ctx.env
    if publishable_key is not None:
        credentials = Credentials(url=normalize_url(url), key=publishable_key, token=read_key(stdin, "gateway token (ocbt_...)"))
    else:
        credentials = Credentials(url=normalize_url(url), key=read_key(stdin))
    kind = classify_key(credentials.key, credentials.token)
    if kind == LEGACY_JWT:
        print(LEGACY_WARNING, file=err)
    check_with_server(credentials, out, ctx.admin_deadline())

    keyring_store, file_store = KeyringStore(env), SealedFileStore(ctx.paths.sealed_file)
    chosen: CredentialStore
    keyring_failed = False
    if store == "file":
        chosen = file_store
    else:
        try:
            keyring_store.store(credentials)
            chosen = keyring_store
        except StoreUnavailable as exc:
            if store == "keyring":
                raise BridgeError(f"cannot use the OS keyring: {exc}; use `--store file` on headless hosts") from None
            print(f"no usable OS keyring ({exc}); using the sealed file instead", file=err)
            chosen, keyring_failed = file_store, True
    if chosen is file_store:
        file_store.store(credentials)
        if not keyring_failed:
            # A keyring that just failed holds nothing of ours, and asking it again would only wait again.
            keyring_store.erase()
        where = f"sealed file {file_store.path}"
    else:
        file_store.erase()
        where = "OS keyring"
    print(f"logged in to {credentials.url} with {credentials.shown()}; stored in the {where}", file=out)
    return 0


def login_access_token(store: str | None, stdin: TextIO, ctx: Context) -> int:
    """The Management API's personal access token, for `bridge edge`: checked for its shape and stored apart from
    the project's key; the first `bridge edge status` proves it works."""
    from bridge.credentials.access_token import check_access_token, store_access_token

    token = check_access_token(read_key(stdin, "Supabase personal access token (sbp_...)"))
    where = store_access_token(token, ctx.env, ctx.paths.data_dir, store)
    print(f"access token {redact_key(token)} stored in the {where}; `bridge edge status` checks it", file=ctx.out)
    return 0


def logout(ctx: Context) -> int:
    from bridge.credentials.access_token import erase_access_token

    out, env, paths = ctx.out, ctx.env, ctx.paths
    removed = [
        where for where, store in (("OS keyring", KeyringStore(env)), (f"sealed file {paths.sealed_file}", SealedFileStore(paths.sealed_file)))
        if store.erase()
    ]
    tokens = erase_access_token(env, paths.data_dir)
    if tokens:
        removed.append(f"access token from the {' and the '.join(tokens)}")
    print(f"removed credentials from the {' and the '.join(removed)}" if removed else "no stored credentials to remove", file=out)
    if env.get(ENV_URL) and any(env.get(k) for k in ENV_KEYS):
        print(f"note: {ENV_URL} and {ENV_KEYS[0]}/{ENV_KEYS[1]} are still set in the environment and still apply", file=out)
    return 0


def add_login_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="project URL, https://<project-ref>.supabase.co (not with --access-token)")
    parser.add_argument("--store", choices=("keyring", "file"), help="force where the credentials go")
    parser.add_argument("--publishable-key", metavar="KEY",
                        help="a gateway: the project's publishable key (public by design); needs --gateway-token")
    parser.add_argument("--gateway-token", action="store_true",
                        help="read a gateway token (from `bridge tokens create`) on stdin or at a hidden prompt")
    parser.add_argument("--access-token", action="store_true",
                        help="store a Supabase personal access token (sbp_...) for `bridge edge`, read on stdin or at a hidden prompt")


def handle_login(args: argparse.Namespace, ctx: Context) -> int:
    if ctx.stdin is None:
        raise BridgeError("stdin is closed: pipe the key on stdin or run `bridge login` in a terminal")
    if args.access_token:
        if args.url or args.publishable_key or args.gateway_token:
            raise UsageError("--access-token stands alone: `bridge login --access-token < token.txt` (the project comes from the login or --project-ref)")
        return login_access_token(args.store, ctx.stdin, ctx)
    if not args.url:
        raise UsageError("give --url https://<project-ref>.supabase.co (or --access-token for the Management API token)")
    if bool(args.publishable_key) != args.gateway_token:
        raise UsageError("--publishable-key and --gateway-token go together: a gateway logs in with both")
    return login(args.url, args.store, ctx.stdin, ctx, args.publishable_key)


def handle_logout(args: argparse.Namespace, ctx: Context) -> int:
    return logout(ctx)


VERBS = {
    "login": Verb(
        "login", "check a Supabase URL and key and store them (keyring, else sealed file)",
        "bridge login --url https://abcd.supabase.co   # then paste the key at the hidden prompt\n"
        "  bridge login --url https://abcd.supabase.co --publishable-key sb_publishable_... --gateway-token < token.txt\n"
        "  bridge login --access-token < sbp_token.txt   # for bridge edge",
        handle_login, add_login_arguments,
    ),
    "logout": Verb(
        "logout", "erase stored credentials from the keyring and the sealed file", "bridge logout",
        handle_logout,
    ),
}
