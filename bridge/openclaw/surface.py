"""Where OpenClaw 2026.9 accepts a SecretRef, and the plan target type `openclaw secrets apply` wants for each.

The patterns are OpenClaw's own list of user-supplied credential fields in
openclaw.json (docs/reference/secretref-credential-surface.md, generated from
its target registry); `*` stands for one map key. A plan target's `type` is
the pattern itself, except for the canonical names below, which OpenClaw
prefers (it accepts the pattern as an alias).
"""

from __future__ import annotations

from collections.abc import Sequence

CONFIG_PATTERNS: tuple[str, ...] = (
    "agents.entries.*.memory.search.remote.apiKey",
    "agents.entries.*.tts.personas.*.providers.*.apiKey",
    "agents.entries.*.tts.providers.*.apiKey",
    "channels.buzz.accounts.*.authTag",
    "channels.buzz.accounts.*.privateKey",
    "channels.buzz.authTag",
    "channels.buzz.privateKey",
    "channels.clickclack.accounts.*.token",
    "channels.clickclack.token",
    "channels.discord.accounts.*.pluralkit.token",
    "channels.discord.accounts.*.token",
    "channels.discord.accounts.*.voice.realtime.providers.*.apiKey",
    "channels.discord.accounts.*.voice.tts.personas.*.providers.*.apiKey",
    "channels.discord.accounts.*.voice.tts.providers.*.apiKey",
    "channels.discord.pluralkit.token",
    "channels.discord.token",
    "channels.discord.voice.realtime.providers.*.apiKey",
    "channels.discord.voice.tts.personas.*.providers.*.apiKey",
    "channels.discord.voice.tts.providers.*.apiKey",
    "channels.feishu.accounts.*.appSecret",
    "channels.feishu.accounts.*.encryptKey",
    "channels.feishu.accounts.*.verificationToken",
    "channels.feishu.appSecret",
    "channels.feishu.encryptKey",
    "channels.feishu.verificationToken",
    "channels.googlechat.accounts.*.serviceAccount",
    "channels.googlechat.serviceAccount",
    "channels.irc.accounts.*.nickserv.password",
    "channels.irc.accounts.*.password",
    "channels.irc.nickserv.password",
    "channels.irc.password",
    "channels.matrix.accessToken",
    "channels.matrix.accounts.*.accessToken",
    "channels.matrix.accounts.*.password",
    "channels.matrix.password",
    "channels.mattermost.accounts.*.botToken",
    "channels.mattermost.botToken",
    "channels.msteams.appPassword",
    "channels.nextcloud-talk.accounts.*.apiPassword",
    "channels.nextcloud-talk.accounts.*.botSecret",
    "channels.nextcloud-talk.apiPassword",
    "channels.nextcloud-talk.botSecret",
    "channels.nostr.privateKey",
    "channels.qqbot.accounts.*.clientSecret",
    "channels.qqbot.clientSecret",
    "channels.slack.accounts.*.appToken",
    "channels.slack.accounts.*.botToken",
    "channels.slack.accounts.*.relay.authToken",
    "channels.slack.accounts.*.signingSecret",
    "channels.slack.accounts.*.userToken",
    "channels.slack.appToken",
    "channels.slack.botToken",
    "channels.slack.relay.authToken",
    "channels.slack.signingSecret",
    "channels.slack.userToken",
    "channels.sms.accounts.*.authToken",
    "channels.sms.authToken",
    "channels.telegram.accounts.*.botToken",
    "channels.telegram.accounts.*.webhookSecret",
    "channels.telegram.botToken",
    "channels.telegram.webhookSecret",
    "channels.zalo.accounts.*.botToken",
    "channels.zalo.accounts.*.webhookSecret",
    "channels.zalo.botToken",
    "channels.zalo.webhookSecret",
    "cron.webhookToken",
    "gateway.auth.password",
    "gateway.auth.token",
    "gateway.remote.password",
    "gateway.remote.token",
    "memory.search.remote.apiKey",
    "models.providers.*.apiKey",
    "models.providers.*.headers.*",
    "models.providers.*.request.auth.token",
    "models.providers.*.request.auth.value",
    "models.providers.*.request.headers.*",
    "models.providers.*.request.proxy.tls.ca",
    "models.providers.*.request.proxy.tls.cert",
    "models.providers.*.request.proxy.tls.key",
    "models.providers.*.request.proxy.tls.passphrase",
    "models.providers.*.request.tls.ca",
    "models.providers.*.request.tls.cert",
    "models.providers.*.request.tls.key",
    "models.providers.*.request.tls.passphrase",
    "plugins.entries.acpx.config.mcpServers.*.env.*",
    "plugins.entries.brave.config.webSearch.apiKey",
    "plugins.entries.codex.config.appServer.authToken",
    "plugins.entries.codex.config.appServer.headers.*",
    "plugins.entries.comfy.config.headers.*",
    "plugins.entries.exa.config.webSearch.apiKey",
    "plugins.entries.facetime.config.realtime.providers.*.apiKey",
    "plugins.entries.firecrawl.config.webFetch.apiKey",
    "plugins.entries.firecrawl.config.webSearch.apiKey",
    "plugins.entries.google-meet.config.realtime.providers.*.apiKey",
    "plugins.entries.google.config.webSearch.apiKey",
    "plugins.entries.google.config.webSearch.headers.*",
    "plugins.entries.imap.config.accounts.*.password",
    "plugins.entries.minimax.config.webSearch.apiKey",
    "plugins.entries.moonshot.config.webSearch.apiKey",
    "plugins.entries.parallel.config.webSearch.apiKey",
    "plugins.entries.perplexity.config.webSearch.apiKey",
    "plugins.entries.tavily.config.webSearch.apiKey",
    "plugins.entries.team-reports.config.discord.token",
    "plugins.entries.team-reports.config.github.token",
    "plugins.entries.typesafe.config.apiKey",
    "plugins.entries.voice-call.config.realtime.providers.*.apiKey",
    "plugins.entries.voice-call.config.streaming.providers.*.apiKey",
    "plugins.entries.voice-call.config.tts.providers.*.apiKey",
    "plugins.entries.voice-call.config.twilio.authToken",
    "plugins.entries.webhooks.config.routes.*.secret",
    "plugins.entries.xai.config.webSearch.apiKey",
    "skills.entries.*.apiKey",
    "talk.providers.*.apiKey",
    "talk.realtime.providers.*.apiKey",
    "tts.personas.*.providers.*.apiKey",
    "tts.providers.*.apiKey",
)
CANONICAL_TYPES = {
    "models.providers.*.apiKey": "models.providers.apiKey",
    "skills.entries.*.apiKey": "skills.entries.apiKey",
    "channels.googlechat.accounts.*.serviceAccount": "channels.googlechat.serviceAccount",
}
AUTH_PROFILE_TYPES = {"api_key": ("auth-profiles.api_key.key", "key"), "token": ("auth-profiles.token.token", "token")}
"""Auth-profile credential type -> (plan target type, the field holding the plaintext)."""
_SPLIT = tuple((pattern, tuple(pattern.split("."))) for pattern in CONFIG_PATTERNS)


def target_type(segments: Sequence[str]) -> str | None:
    """The plan target type for a concrete openclaw.json path, or None where OpenClaw takes no ref."""
    for pattern, parts in _SPLIT:
        if len(parts) == len(segments) and all(p in ("*", s) for p, s in zip(parts, segments, strict=True)):
            return CANONICAL_TYPES.get(pattern, pattern)
    return None


def provider_id(segments: Sequence[str]) -> str | None:
    """The `providerId` a models.providers target must carry (OpenClaw checks it against the path)."""
    return segments[2] if len(segments) > 3 and segments[0] == "models" and segments[1] == "providers" else None
