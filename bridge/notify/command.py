"""`bridge notify test`, and the one pass `bridge audit --alerts --notify` and the watcher run."""

from __future__ import annotations

import argparse
import time

from bridge.app.context import Context
from bridge.app.verbs import Verb, add_action, add_actions, run_action
from bridge.core.errors import BridgeError
from bridge.notify.deliver import Delivery, run_pass, send_test
from bridge.vault.admin_api import AdminApi
from bridge.vault.client import connect

NOTIFY_PROVIDER = "notify"
"""client.provider of the notifier's Vault calls in the audit log."""


def configured_webhook(ctx: Context) -> str:
    name = ctx.config.notify.webhook
    if name is None:
        raise BridgeError(
            f'notifications are not configured: add [notify] webhook = "<Vault secret name>" to {ctx.paths.config_file} '
            "and store the webhook URL under that name with `bridge secrets set`"
        )
    return name


def open_vault(ctx: Context) -> AdminApi:
    import socket

    return AdminApi(connect(
        ctx.credentials().credentials, provider=NOTIFY_PROVIDER, host=socket.gethostname(), connect_timeout=5.0,
        read_timeout=20.0, deadline=ctx.admin_deadline(),
    ))


def notify_once(ctx: Context) -> Delivery:
    """One pass under admin_deadline, as `bridge audit --alerts --notify` runs it from cron."""
    webhook = configured_webhook(ctx)
    token = bool(ctx.credentials().credentials.token)
    with open_vault(ctx) as vault:
        return run_pass(vault, webhook, token, ctx.paths.data_dir, ctx.config.admin_deadline)


def handle_test(args: argparse.Namespace, ctx: Context) -> int:
    webhook = configured_webhook(ctx)
    token = bool(ctx.credentials().credentials.token)
    with open_vault(ctx) as vault:
        status = send_test(vault, webhook, token, ctx.paths.data_dir, ctx.config.admin_deadline, time.time())
    print(f"test message delivered to the webhook in Vault secret {webhook} (HTTP {status})", file=ctx.out)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = add_actions(parser)
    add_action(actions, "test", "post one test message to the webhook ([notify] webhook names its Vault secret)",
               "bridge notify test", handle_test)


VERBS = {
    "notify": Verb(
        "notify", "notifications to a webhook: alerts, due rotations, failed provider tests (one pass, for cron: "
        "bridge audit --alerts --notify)",
        "bridge notify test", run_action, add_arguments,
    ),
}
