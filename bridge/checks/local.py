"""Doctor's checks of this machine: the bridge's files and their modes, config.toml, the keyring, the credentials."""

from __future__ import annotations

from bridge.checks.base import FAIL, PASS, WARN, DoctorBase
from bridge.core.credentials import Credentials
from bridge.core.durations import format_age
from bridge.core.errors import BridgeError


class LocalChecks(DoctorBase):
    def files(self) -> None:
        from bridge.local.selfcheck import check, targets

        for target in targets(self.launcher, self.paths):
            problems = check([target])
            name = f"permissions: {target.what}"
            if problems:
                self.add(name, FAIL, "; ".join(p.message for p in problems), "; ".join(p.fix for p in problems))
            elif target.path.exists():
                self.add(name, PASS, f"{target.path}: yours, not writable by others" + (", private" if target.private else ""))


    def config(self) -> None:
        config = self.ctx.config
        where = self.paths.config_file if self.paths.config_file.exists() else f"defaults ({self.paths.config_file} absent)"
        self.add(
            "config", PASS,
            f"{where}: deadline {format_age(config.deadline)} (gateway_timeout {format_age(config.gateway_timeout)}), "
            f"max_stale {format_age(config.max_stale)}, cache_ttl {format_age(config.cache_ttl)}",
        )


    def keyring(self) -> None:
        from bridge.core.deadline import TimedOut, run_within
        from bridge.credentials.base import STORE_BUDGET_S, StoreUnavailable
        from bridge.credentials.os_keyring import KeyringStore

        def probe() -> str:
            backend = KeyringStore(self.env).backend()
            backend.get("openclaw-supabase-bridge-doctor", "probe")
            return backend.name

        try:
            name = run_within(STORE_BUDGET_S, probe, "the keyring probe")
        except StoreUnavailable as exc:
            self.add("keyring", WARN, f"no usable OS keyring ({exc}); the sealed file is used instead")
            return
        except TimedOut:
            self.add(
                "keyring", WARN, f"the OS keyring did not answer within {format_age(STORE_BUDGET_S)}; resolves skip it",
                "check DBUS_SESSION_BUS_ADDRESS points at a live session bus, or `bridge login --store file`",
            )
            return
        self.add("keyring", PASS, name)


    def credentials(self, found_out: list[Credentials]) -> None:
        from bridge.core.keys import ADMIN_KINDS, LEGACY_JWT, classify_key

        try:
            found = self.ctx.credentials()
        except BridgeError as exc:
            self.add("credentials", FAIL, str(exc), "bridge login --url https://<project-ref>.supabase.co")
            return
        for note in found.notes:
            self.add("credential stores", WARN, note, "fix that store, or `bridge logout` to stop using it")
        credentials = found.credentials
        self.add("credentials", PASS, f"{credentials.url}, {credentials.shown()}, from the {found.source}")
        try:
            kind = classify_key(credentials.key, credentials.token)
        except BridgeError as exc:
            self.add("key type", FAIL, str(exc), "bridge login with the project's secret key, or as a gateway with a token")
            return
        if kind in ADMIN_KINDS and self.is_gateway():
            self.add(
                "key type", WARN,
                f"{kind}: this gateway resolves with a key that opens every secret and table of the project",
                "mint a token on the admin machine (bridge tokens create NAME --tenant default), then here: "
                "bridge login --url URL --publishable-key sb_publishable_... --gateway-token",
            )
        elif kind == LEGACY_JWT:
            self.add(
                "key type", WARN, "legacy service_role JWT: Supabase is retiring these by the end of 2026",
                "create a secret key (sb_secret_...) under Project Settings > API Keys, then bridge login again",
            )
        else:
            self.add("key type", PASS, kind)
        found_out.append(credentials)

