"""Where each provider's cheapest authenticated call goes unless `[providers.<type>] base_url` says otherwise.

These are the providers' public API hosts. AWS is the one that depends on
the value: STS answers in every region, and credentials that name a region
are tested there (a region that is not enabled for the account refuses
them), signed for that region; without one, the global endpoint, which signs
as us-east-1 (AWS STS Regions and endpoints).
"""

from __future__ import annotations

from bridge.core.secret_types import json_object

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "openrouter": "https://openrouter.ai",
    "gcp-service-account": "https://oauth2.googleapis.com",
    "aws": "https://sts.amazonaws.com",
    "azure": "https://login.microsoftonline.com",
}
KEY_PAGES = {
    "openai": "https://platform.openai.com/api-keys",
    "anthropic": "https://console.anthropic.com/settings/keys",
    "gemini": "https://aistudio.google.com/app/apikey",
    "openrouter": "https://openrouter.ai/settings/keys",
    "gcp-service-account": "https://console.cloud.google.com/iam-admin/serviceaccounts",
    "aws": "https://console.aws.amazon.com/iam/home#/security_credentials",
    "azure": "https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade",
}
"""Where a person revokes a leaked key of each type (docs/providers.md "Key pages"): what `bridge secrets rotate`
tells the user to do last. A generic secret has none: it is revoked wherever it was issued."""
AWS_REGIONAL_URL = "https://sts.{region}.amazonaws.com"
AWS_GLOBAL_REGION = "us-east-1"


def default_base_url(secret_type: str, value: str) -> str:
    region = aws_region(value) if secret_type == "aws" else None
    return AWS_REGIONAL_URL.format(region=region) if region else DEFAULT_BASE_URLS[secret_type]


def aws_region(value: str) -> str | None:
    """The region AWS credentials name (the shape check has held it to a region name), or None."""
    doc = json_object(value) or {}
    region = doc.get("region")
    return region if isinstance(region, str) else None


def signing_region(value: str) -> str:
    return aws_region(value) or AWS_GLOBAL_REGION
