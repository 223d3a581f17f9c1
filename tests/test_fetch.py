"""The fetch layer against a real loopback server: caps, charsets, redirects, politeness."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.config import MonitorSettings
from monitor.errors import FetchError
from monitor.fetch import Fetcher, Page, _retry_after, decode

# The default retries (2 after the first try), without the waits.
FAST = MonitorSettings(host_delay=timedelta(0))
FAST_RETRY = timedelta(milliseconds=10)


def fetch(url: str, *, fetcher_args: dict[str, Any] | None = None, **kwargs: Any) -> Page:
    async def go() -> Page:
        args = {"first_retry": FAST_RETRY, **(fetcher_args or {})}
        async with Fetcher(FAST, **args) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def test_bodies_over_the_cap_are_refused_without_reading_them(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 50_000)
    with pytest.raises(FetchError, match="over the 10000-byte cap"):
        fetch(httpserver.url_for("/big"), fetcher_args={"max_bytes": 10_000})


def test_a_chunked_body_without_length_is_cut_off_at_the_cap(httpserver: HTTPServer) -> None:
    def stream(request: Request) -> Response:
        return Response((b"y" * 4096 for _ in range(100)), direct_passthrough=True)

    httpserver.expect_request("/stream").respond_with_handler(stream)
    with pytest.raises(FetchError, match="stopped reading"):
        fetch(httpserver.url_for("/stream"), fetcher_args={"max_bytes": 50_000})


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("价格 ￥4999".encode("gbk"), "text/html; charset=gbk", "价格 ￥4999"),
        ('<meta charset="gb2312"><p>价格 ￥4999</p>'.encode("gb18030"), "text/html", "价格 ￥4999"),
        ("价格 ￥4999".encode("gb18030"), "text/html", "价格 ￥4999"),  # undeclared, not UTF-8
        ("\ufeff价格 ¥4999".encode(), "text/html; charset=iso-8859-1", "价格 ¥4999"),  # BOM wins
        (b"price \xff\xfe 12", "text/html; charset=utf-8", "price \ufffd\ufffd 12"),
    ],
)
def test_pages_are_decoded_by_their_declared_or_detected_charset(
    body: bytes, content_type: str, expected: str
) -> None:
    assert expected in decode(body, content_type)


def test_redirect_loops_and_client_errors_fail_without_retrying(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    with pytest.raises(FetchError, match="more than 10 redirects") as caught:
        fetch(httpserver.url_for("/loop"))
    assert not caught.value.retryable
    httpserver.expect_request("/forbidden").respond_with_data("no", status=403)
    with pytest.raises(FetchError, match="HTTP 403"):
        fetch(httpserver.url_for("/forbidden"))
    assert len([r for r, _ in httpserver.log if r.path == "/forbidden"]) == 1


def test_a_gone_product_is_a_page_not_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("gone", status=410)
    page = fetch(httpserver.url_for("/gone"))
    assert page.gone and page.status == 410


def test_server_errors_are_retried_then_reported(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    with pytest.raises(FetchError, match="HTTP 503") as caught:
        fetch(httpserver.url_for("/down"))
    assert caught.value.retryable
    assert len(httpserver.log) == FAST.retries + 1 == 3


def test_a_retry_after_beyond_the_limit_gives_up_at_once(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/later").respond_with_data(
        "later", status=429, headers={"Retry-After": "3600"}
    )
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/later"))
    assert caught.value.retry_after == 3600
    assert len(httpserver.log) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert _retry_after("120") == 120
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past: no wait
    assert _retry_after("soon") is None


def test_requests_to_one_host_are_spaced_by_the_host_delay(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p").respond_with_data("ok")
    waits: list[float] = []
    now = [100.0]

    async def sleep(seconds: float) -> None:  # an injected clock: no real waiting
        waits.append(seconds)
        now[0] += seconds

    monotonic: Callable[[], float] = lambda: now[0]  # noqa: E731

    async def go() -> None:
        async with Fetcher(
            MonitorSettings(host_delay=timedelta(seconds=5)), sleep=sleep, monotonic=monotonic
        ) as f:
            for _ in range(3):
                await f.fetch(httpserver.url_for("/p"))

    asyncio.run(go())
    assert waits == [5.0, 5.0]


def test_a_cookies_file_sends_its_cookies_to_its_domain_only(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n"
        "127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tsession\tabc123\n"
        "other.example\tFALSE\t/\tFALSE\t4102444800\tsecret\tnope\n"
    )
    httpserver.expect_request("/p", headers={"Cookie": "session=abc123"}).respond_with_data("ok")
    url = f"http://127.0.0.1:{httpserver.port}/p"  # cookiejar does not match dotless "localhost"
    page = fetch(url, cookies_file=str(cookies))
    assert page.text == "ok"
    with pytest.raises(FetchError, match="cookies file"):
        fetch(url, cookies_file=str(tmp_path / "missing.txt"))
