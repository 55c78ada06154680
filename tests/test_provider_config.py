"""`[providers.<type>] base_url` in config.toml: which types, which keys, and the Supabase URL's rule for each URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.core.errors import ConfigError
from bridge.local.config import Config, load_config, parse_config, provider_base_url


def test_base_urls_are_kept_per_type_without_a_trailing_slash() -> None:
    config = parse_config({"providers": {"openai": {"base_url": "https://proxy.example/openai/"}, "aws": {"base_url": "http://127.0.0.1:8443"}}})
    assert dict(config.providers) == {"openai": "https://proxy.example/openai", "aws": "http://127.0.0.1:8443"}
    assert parse_config({"providers": {"gemini": {}}}).providers == {}
    assert Config().providers == {} and parse_config({}) == Config()


def test_a_providers_table_in_a_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('deadline = "3s"\n\n[providers.gcp-service-account]\nbase_url = "http://localhost:9000"\n')
    config = load_config(path)
    assert config.deadline == 3.0 and config.providers == {"gcp-service-account": "http://localhost:9000"}


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        ({"generic": {"base_url": "https://x.example"}}, "unknown provider type [providers.generic]; known types: openai, anthropic, gemini, "
                                                          "openrouter, gcp-service-account, aws, azure"),
        ({"gpt": {"base_url": "https://x.example"}}, "unknown provider type [providers.gpt]"),
        ({"openai": {"base_url": "https://x.example", "timeout": 3}}, "unknown key 'timeout' in [providers.openai]; known keys: base_url"),
        ({"openai": "https://x.example"}, "providers.openai must be a table"),
        ("https://x.example", "providers must be a table of [providers.<type>] tables"),
        ({"openai": {"base_url": "http://proxy.example"}}, "[providers.openai] base_url: refusing plain http for proxy.example; use https://"),
        ({"openai": {"base_url": "https://user:pw@proxy.example"}}, "[providers.openai] base_url must not contain credentials, a query or a fragment"),
        ({"openai": {"base_url": "https://proxy.example/?key=1"}}, "must not contain credentials, a query or a fragment"),
        ({"openai": {"base_url": "https://proxy.example/#top"}}, "must not contain credentials, a query or a fragment"),
        ({"azure": {"base_url": "login.microsoftonline.com"}}, '[providers.azure] base_url must be a URL like "https://proxy.example"'),
        ({"azure": {"base_url": 443}}, "[providers.azure] base_url must be a URL like"),
    ],
)
def test_bad_provider_settings_are_refused_naming_the_table(providers: Any, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"providers": providers}, source="/home/u/config.toml")
    assert str(raised.value).startswith("/home/u/config.toml: ") and message in str(raised.value)


def test_the_url_rule_is_the_supabase_urls() -> None:
    for url in ("http://localhost:1", "http://127.0.0.1", "http://[::1]:8080/x"):
        assert provider_base_url("openai", url) == url
    with pytest.raises(ConfigError, match=r"refusing plain http for 10\.0\.0\.1"):
        provider_base_url("openai", "http://10.0.0.1")
