"""The URLs the fetcher reads without httpx: the same parts as httpx's URL, or httpx's."""

from __future__ import annotations

import random

import httpx
import pytest

from monitor.url import PlainUrl, request_url

PLAIN = [
    "http://127.0.0.1:8080/p/1.html",
    "http://10.0.0.255/p",
    "http://shop.example",
    "https://item.jd.com/100012043978.html",
    "https://www.mi.com/shop/buy/detail?product_id=10000330&selected=10000330",
    "https://a.example/x%20y",
    "http://a.example/%e4%B8%ad",
    "http://a.example/~x!$&'()*+,;=:@/%41",
    "http://a.example/x.html?",
    "http://a.example/?a=1?b",
    "http://a.example:443/x",
    "http://a.example/.well-known/x",
    "http://a.example/..x/",
]
NOT_PLAIN = [
    "http://A.example/",  # httpx lowers the host
    "http://a.example:80/x",  # and drops a default port
    "https://a.example:443/x",
    "http://a.example:0080/",
    "http://a.example:65536/",  # which it refuses
    "https://a.example/x/../y",  # it removes dot segments
    "http://a.example/a/./b",
    "http://a.example/x?q=a b",  # and escapes what needs it
    "http://a.example/%zz",
    "http://a.example/x?a=%",
    "http://a.example/x#frag",
    "http://u:p@a.example/",  # credentials: Basic auth
    "http://xn--bcher-kva.example/",  # IDNA, which it checks
    "http://bücher.example/",
    "http://-a.example/",
    "http://a.example./",
    "ftp://a.example/",
    "http://999.1.1.1/",  # httpx refuses it
    "http://010.0.0.1/",  # which the C library would read as 8.0.0.1
    "http://12-34-56-78/",  # httpx's IPv4 pattern takes it, and refuses it
    "http:///x",
]


def same_parts(url: str) -> None:
    plain, theirs = request_url(url), httpx.URL(url)
    assert isinstance(plain, PlainUrl), url
    assert (str(plain), plain.scheme, plain.raw_scheme, plain.host, plain.raw_host) == (
        str(theirs),
        theirs.scheme,
        theirs.raw_scheme,
        theirs.host,
        theirs.raw_host,
    ), url
    assert (plain.port, plain.raw_path, plain.netloc) == (
        theirs.port,
        theirs.raw_path,
        theirs.netloc,
    ), url
    assert (plain.username, plain.password) == (theirs.username, theirs.password), url


@pytest.mark.parametrize("url", PLAIN)
def test_a_url_httpx_would_leave_as_it_is_is_read_without_it(url: str) -> None:
    same_parts(url)


@pytest.mark.parametrize("url", NOT_PLAIN)
def test_any_other_url_is_httpx_s(url: str) -> None:
    """httpx's URL, or its refusal."""
    try:
        found = request_url(url)
    except httpx.InvalidURL:
        return
    assert isinstance(found, httpx.URL)


def test_thousands_of_generated_urls_read_as_httpx_reads_them() -> None:
    """Every generated URL is either read to httpx's parts or left to httpx, never misread."""
    rng = random.Random(12)
    pieces = [*"abcXYZ019-._~!$&'()*+,;=:@/?%", "%41", "%e4", "..", ".", "//", " ", "#"]
    plain = 0
    for _ in range(3000):
        host = rng.choice(["shop.example", "a-b.c1.example", "127.0.0.1", "x.example"])
        port = rng.choice(["", "", ":8080", ":1", ":65535"])
        path = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        url = f"{rng.choice(['http', 'https'])}://{host}{port}/{path}"
        found = request_url(url)
        if isinstance(found, PlainUrl):
            plain += 1
            same_parts(url)
    assert plain > 300  # the generator does reach the fast path
