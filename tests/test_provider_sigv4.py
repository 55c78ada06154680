"""bridge/providers/sigv4.py against AWS's published Signature Version 4 test suite (AKIDEXAMPLE, 20150830T123600Z)."""

from __future__ import annotations

import pytest

from bridge.providers.sigv4 import authorization, signing_key

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
STAMP = "20150830T123600Z"
HEADERS = {"Host": "example.amazonaws.com", "X-Amz-Date": STAMP}
SCOPE = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date"


@pytest.mark.parametrize(
    ("vector", "method", "url", "signature"),
    [
        ("get-vanilla", "GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("post-vanilla", "POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        ("get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1",
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ],
)
def test_signatures_match_the_aws_test_suite(vector: str, method: str, url: str, signature: str) -> None:
    header = authorization(method, url, HEADERS, b"", "AKIDEXAMPLE", SECRET, "us-east-1", "service", STAMP)
    assert header == f"AWS4-HMAC-SHA256 {SCOPE}, Signature={signature}", vector


def test_the_signing_key_matches_the_published_derivation() -> None:
    # The derived key behind the suite's signatures above: date 20150830, region us-east-1, service "service".
    assert signing_key(SECRET, "20150830", "us-east-1", "service").hex() == "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"


def test_header_values_are_trimmed_and_names_lowercased_before_signing() -> None:
    messy = {"HOST": "example.amazonaws.com", "x-amz-date": f"  {STAMP} "}
    assert authorization("GET", "https://example.amazonaws.com/", messy, b"", "AKIDEXAMPLE", SECRET, "us-east-1", "service", STAMP) == (
        authorization("GET", "https://example.amazonaws.com/", HEADERS, b"", "AKIDEXAMPLE", SECRET, "us-east-1", "service", STAMP)
    )
