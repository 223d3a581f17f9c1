"""The fetch layer against a real loopback server: caps, codings, charsets, redirects,
politeness."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.charset import decode
from monitor.config import MonitorSettings
from monitor.errors import FetchError
from monitor.extract import Request as ExtractRequest
from monitor.extract import source_for
from monitor.fetch import Fetcher, Page, _retry_after
from monitor.models import Source
from monitor.shops import catalogue
from monitor.testing import Answer, LoopbackShop

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


@pytest.mark.parametrize("charset", ["punycode", "idna", "unicode_escape", "rot13", "utf-7"])
def test_a_charset_no_browser_knows_is_read_as_undeclared(charset: str) -> None:
    # Decoding runs beside the event loop: punycode takes time with the square of its input
    # (a 500 KB page held `check` for 12 s), and the others are not web encodings either.
    body = b"<p>price 4999.00</p>" + b"a" * 500_000 + b"-"
    for declared in (f"text/html; charset={charset}", "text/html"):
        text = decode(
            body if "charset" in declared else f'<meta charset="{charset}">'.encode() + body,
            declared,
        )
        assert text.endswith("<p>price 4999.00</p>" + "a" * 500_000 + "-")


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


# --- content codings: read by our own bounded inflater, one coding at most ----------------

PAGE_TEXT = "<p>价格 ￥4999</p>" * 200


def raw_deflate(data: bytes) -> bytes:
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return deflate.compress(data) + deflate.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", raw_deflate),  # raw, as some servers send it
        ("identity", lambda body: body),
        ("identity, gzip", gzip.compress),
        ("gzip, identity", gzip.compress),
    ],
)
def test_gzip_and_deflate_bodies_are_inflated(
    httpserver: HTTPServer, coding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = encode(PAGE_TEXT.encode())
    httpserver.expect_request("/p").respond_with_data(
        body, headers={"Content-Encoding": coding}, content_type="text/html; charset=utf-8"
    )
    page = fetch(httpserver.url_for("/p"))
    assert page.text == PAGE_TEXT
    assert page.size == len(PAGE_TEXT.encode())


@pytest.mark.parametrize(
    ("coding", "reason"),
    [
        ("br", "unsupported Content-Encoding: br"),
        ("zstd", "unsupported Content-Encoding: zstd"),
        ("compress", "unsupported Content-Encoding: compress"),
        ("gzip, gzip", "unsupported Content-Encoding: gzip, gzip (more than one coding)"),
        ("deflate, gzip", "unsupported Content-Encoding: deflate, gzip (more than one coding)"),
        ("gzip, br", "unsupported Content-Encoding: gzip, br (more than one coding)"),
    ],
)
def test_other_codings_and_stacked_codings_are_refused_without_retrying(
    httpserver: HTTPServer, coding: str, reason: str
) -> None:
    httpserver.expect_request("/p").respond_with_data(
        gzip.compress(gzip.compress(b"<p>4999</p>")), headers={"Content-Encoding": coding}
    )
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/p"))
    assert caught.value.reason == reason
    assert not caught.value.retryable
    assert len(httpserver.log) == 1


def test_two_content_encoding_lines_are_stacked_codings(httpserver: HTTPServer) -> None:
    def respond(request: Request) -> Response:
        response = Response(gzip.compress(gzip.compress(b"<p>4999</p>")))
        response.headers.add("Content-Encoding", "gzip")
        response.headers.add("Content-Encoding", "gzip")
        return response

    httpserver.expect_request("/p").respond_with_handler(respond)
    with pytest.raises(FetchError, match=r"^unsupported Content-Encoding: gzip, gzip \(more"):
        fetch(httpserver.url_for("/p"))


def test_only_codings_we_read_are_asked_for(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p").respond_with_data("ok")
    fetch(httpserver.url_for("/p"))
    (request, _), *_ = httpserver.log
    assert request.headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(("coding", "encode"), [("gzip", gzip.compress), ("deflate", raw_deflate)])
def test_a_body_that_inflates_past_the_cap_is_cut_off(
    httpserver: HTTPServer, coding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = encode(bytes(200_000))  # 200 kB of zeros in a few hundred bytes
    httpserver.expect_request("/p").respond_with_data(body, headers={"Content-Encoding": coding})
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/p"), fetcher_args={"max_bytes": 10_000})
    assert caught.value.reason == "page is over the 10000-byte cap; stopped reading"


def test_a_corrupt_gzip_body_is_undecodable(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p").respond_with_data(
        b"not gzip at all", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError, match=r"^undecodable gzip body: "):
        fetch(httpserver.url_for("/p"))


# --- redirects: followed here, within the product's site ------------------------------------


def redirect(httpserver: HTTPServer, path: str, location: str) -> str:
    httpserver.expect_request(path).respond_with_response(
        Response(status=302, headers={"Location": location})
    )
    return httpserver.url_for(path)


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        (
            "javascript:alert(1)",
            "redirected to a javascript: URL; only http and https are followed",
        ),
        ("data:text/html,<p>1</p>", "redirected to a data: URL; only http and https are followed"),
        ("ftp://localhost/p", "redirected to a ftp: URL; only http and https are followed"),
        ("http://[::1", "redirected to an invalid URL: Invalid port: ':1'"),
        ("http://xn--a.example/", "redirected to an invalid URL: Codepoint U+0080"),  # IDNA
        ("//[zz]/p", "redirected to an invalid URL: Invalid IPv6 address: '[zz]'"),
        ("https:", "redirected to a URL without a host"),
    ],
)
def test_a_redirect_to_a_url_we_cannot_or_will_not_fetch_is_a_fetch_error(
    shop: LoopbackShop, location: str, reason: str
) -> None:
    # LoopbackShop writes the Location as given (werkzeug would fail on some of these).
    shop.script("/start", Answer(302, b"", {"Location": location}))
    with pytest.raises(FetchError) as caught:
        fetch(shop.url("/start"))
    assert caught.value.reason.startswith(reason), caught.value.reason
    assert not caught.value.retryable
    assert shop.requests("/start") == 1


def test_a_redirect_to_another_site_is_not_followed(httpserver: HTTPServer) -> None:
    # The same server under another name: localhost and 127.0.0.1 are two sites.
    httpserver.expect_request("/elsewhere").respond_with_data("<p>¥1</p>")
    url = redirect(httpserver, "/start", f"http://127.0.0.1:{httpserver.port}/elsewhere")
    assert url.startswith("http://localhost:")
    with pytest.raises(FetchError) as caught:
        fetch(url)
    assert caught.value.reason == "redirected to another site: 127.0.0.1"
    assert [r.path for r, _ in httpserver.log] == ["/start"]


def test_a_same_site_redirect_is_followed_and_the_page_names_where_it_ended(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/final").respond_with_data("<p>¥4999</p>")
    redirect(httpserver, "/moved", "/final?colour=red")
    url = redirect(httpserver, "/start", f"http://LOCALHOST:{httpserver.port}/moved")
    page = fetch(url)
    assert page.text == "<p>¥4999</p>"
    assert page.url == f"http://localhost:{httpserver.port}/final?colour=red"
    assert [r.path for r, _ in httpserver.log] == ["/start", "/moved", "/final"]


def test_a_source_may_be_redirected_within_its_shops_domains_only(httpserver: HTTPServer) -> None:
    """A shop's domains (here localhost) and the fetched URL's host (127.0.0.1) are its site;
    the cookies file's cookies go only where they belong, hop by hop."""
    httpserver.expect_request("/final").respond_with_data("<p>¥4999</p>")
    redirect(httpserver, "/start", f"http://localhost:{httpserver.port}/final")
    start = f"http://127.0.0.1:{httpserver.port}/start"
    shop = catalogue()["generic"].model_copy(update={"domains": ("localhost",)})
    source = source_for(shop, ExtractRequest(product_url=start))
    assert source.domains == ("localhost", "127.0.0.1")

    async def go() -> Page:
        async with Fetcher(FAST) as fetcher:
            return await fetcher.fetch_source(source)

    page = asyncio.run(go())
    assert page.url == f"http://localhost:{httpserver.port}/final"
    assert [r.path for r, _ in httpserver.log] == ["/start", "/final"]


def test_a_cookies_file_is_read_again_for_each_redirect(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tsession\tabc123\n"
    )
    httpserver.expect_request("/final").respond_with_data("ok")
    redirect(httpserver, "/start", f"http://localhost:{httpserver.port}/final")
    page = fetch(
        f"http://127.0.0.1:{httpserver.port}/start",
        cookies_file=str(cookies),
        domains=("127.0.0.1", "localhost"),
    )
    assert page.text == "ok"
    sent = {r.path: r.headers.get("Cookie") for r, _ in httpserver.log}
    assert sent == {"/start": "session=abc123", "/final": None}  # not sent to another host


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.shop.example/p/1", ("www.shop.example", "shop.example")),
        ("https://m.jd.com/product/1.html", ("m.jd.com", "jd.com")),
        ("https://shop.example/p", ("shop.example",)),
        ("https://www.com/", ("www.com",)),  # no parent worth the name
        ("http://127.0.0.1:8000/p", ("127.0.0.1",)),
        ("http://[::1]:8000/p", ("::1",)),
        ("http://[::1/p", ()),
    ],
)
def test_a_url_without_a_shops_domains_is_its_own_site(url: str, site: tuple[str, ...]) -> None:
    assert Source.site_domains(url) == site


def test_a_site_holds_its_domains_and_their_subdomains_only() -> None:
    site = Source("https://www.shop.example/p").site
    for host in ("www.shop.example", "shop.example", "img.shop.example", "SHOP.example."):
        assert Source.host_in(host, site), host
    for host in ("evil.example", "shop.example.evil.example", "notshop.example", ""):
        assert not Source.host_in(host, site), host
    jd = source_for(catalogue()["jd"], ExtractRequest(product_url="https://item.jd.com/42.html"))
    assert jd.url.startswith("https://p.3.cn/")  # the API: a redirect may go back to the shop
    assert Source.host_in("item.jd.com", jd.site) and Source.host_in("p.3.cn", jd.site)
    assert not Source.host_in("taobao.com", jd.site)
