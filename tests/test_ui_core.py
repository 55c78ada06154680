"""`bridge ui`'s pure rules: who is admitted, the badges and the filters as the database takes them."""

from __future__ import annotations

import pytest

from bridge.web.listing import Filters, badge, page_of, query_filters
from bridge.web.security import CSP, HEADERS, Session, cookie_of, refusal

pytestmark = pytest.mark.unit


def headers(session: Session, **extra: str) -> dict[str, str]:
    return {"host": f"127.0.0.1:{session.port}", "cookie": f"bridge_session={session.cookie}", **extra}


def test_the_login_token_works_once_and_only_it() -> None:
    session = Session(port=8765)
    assert not session.redeem("wrong") and not session.used
    assert session.redeem(session.login_token) and not session.redeem(session.login_token)
    assert session.login_url == f"http://127.0.0.1:8765/login?token={session.login_token}"
    assert Session(port=1).login_token != session.login_token and session.cookie != session.login_token
    assert session.key not in (session.cookie, session.login_token) and session.root == f"/{session.key}"


def test_every_request_needs_the_loopback_host_and_the_session_and_every_change_the_origin_and_csrf() -> None:
    s = Session(port=8765)
    good = headers(s)
    post = headers(s, origin=s.origin)
    secrets, r = f"{s.root}/secrets", s.root
    assert refusal(s, "GET", secrets, good, None) is None
    assert refusal(s, "GET", "/login", {"host": "127.0.0.1:8765"}, None) is None
    assert refusal(s, "GET", secrets, {**good, "host": "localhost:8765"}, None) is None
    assert refusal(s, "POST", secrets, post, s.csrf) is None
    refused: dict[str, list[tuple[str, str, dict[str, str], str | None]]] = {
        "wrong Host": [("GET", "/login", {"host": "evil.example:8765"}, None), ("GET", secrets, {**good, "host": "127.0.0.1:9"}, None),
                       ("GET", secrets, {**good, "host": "attacker.test"}, None)],
        "no session": [("GET", secrets, {"host": "127.0.0.1:8765"}, None),
                       ("GET", secrets, {**good, "cookie": "bridge_session=forged"}, None),
                       ("GET", "/secrets", good, None), ("GET", f"{r}x/secrets", good, None), ("GET", f"{r[:-1]}/secrets", good, None),
                       ("GET", f"/{s.cookie}/secrets", good, None)],
        "GET only": [("POST", "/login", {"host": "127.0.0.1:8765", "origin": s.origin}, s.csrf),
                     ("HEAD", "/login", {"host": "127.0.0.1:8765"}, None)],
        "prefetch": [("GET", "/login", {"host": "127.0.0.1:8765", "sec-purpose": "prefetch"}, None),
                     ("GET", "/login", {"host": "127.0.0.1:8765", "x-purpose": "preview"}, None)],
        "cross-origin": [("POST", secrets, good, s.csrf), ("POST", secrets, {**post, "origin": "null"}, s.csrf),
                         ("POST", secrets, {**post, "origin": "http://evil.example"}, s.csrf)],
        "cross-site": [("POST", secrets, {**post, "sec-fetch-site": "cross-site"}, s.csrf)],
        "CSRF": [("POST", secrets, post, None), ("POST", secrets, post, "0" * 64),
                 ("POST", secrets, post, Session(port=8765).csrf)],
    }
    for needle, cases in refused.items():
        for method, path, given, csrf in cases:
            problem = refusal(s, method, path, given, csrf)
            assert problem is not None and needle in problem, (needle, given, problem)


def test_the_headers_forbid_inline_script_framing_and_caching() -> None:
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
    assert HEADERS["x-frame-options"] == "DENY" and HEADERS["cache-control"] == "no-store"
    assert cookie_of("a=1; bridge_session=xyz; b=2") == "xyz" and cookie_of(None) is None


def test_badges_and_filters_as_the_database_takes_them() -> None:
    assert badge({"type": "generic", "status": "ok"}) == badge({"type": None, "status": None}) == "not testable"
    assert [badge({"type": "openai", "status": s}) for s in ("ok", "invalid", "unreachable", None)] == [
        "connected", "refused", "unreachable", "untested",
    ]
    assert query_filters(Filters(status="connected", type="openai")) == {
        "search": None, "tenant": None, "type": "openai", "status": "ok", "due": None,
    }
    assert query_filters(Filters(status="refused"))["status"] == "invalid"
    assert query_filters(Filters(status="unreachable"))["status"] == "unreachable"
    assert query_filters(Filters(status="not testable"))["type"] == "generic"
    assert query_filters(Filters(status="not testable", type="openai"))["type"] == "-", "no secret is both"
    assert query_filters(Filters(status="untested", search="gh"))["status"] == "untested"
    assert Filters.from_query({"page": "x", "q": "  a  "}) == Filters(search="a", page=1)
    assert Filters.from_query({"page": "-3"}).page == 1
    page = page_of(101, [], Filters(page=3))
    assert (page.number, page.pages, page.total) == (3, 3, 101)


def test_the_charts_draw_what_the_database_counted_and_nothing_it_did_not() -> None:
    import datetime as dt

    from bridge.web.chart import sparkline, usage_chart, usage_of

    answer = {"first_day": "2026-11-08", "days": 30, "secrets": {
        "A": {"resolves": [0] * 29 + [4], "failures": [1] + [0] * 29, "rotations": ["2026-11-20T09:00:00Z", "<script>"]},
        "B": "not an object",
    }}
    usage = usage_of(answer)
    assert set(usage) == {"A"} and usage["A"].first_day == dt.date(2026, 11, 8) and usage["A"].peak == 4
    assert usage_of({"secrets": {}}) == {} == usage_of(None) == usage_of({"first_day": "soon", "secrets": {}})
    chart = str(usage_chart(usage["A"]))
    assert chart.count('<g class="day"') == 30 and 'data-day="2026-12-07" data-resolves="4" data-failures="0"' in chart
    assert usage["A"].rotations == ("2026-11-20T09:00:00Z",) and chart.count('class="rotation"') == 1
    assert "<script>" not in chart and "style=" not in chart
    line = str(sparkline(usage["A"]))
    assert 'data-resolves="' + ",".join(["0"] * 29 + ["4"]) + '"' in line and "style=" not in line
    assert "30 days: 4 resolves, 1 failure, 1 rotation" in line
