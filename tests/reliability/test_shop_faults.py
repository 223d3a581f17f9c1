"""A shop that misbehaves, through the real fetch path: every fault is one `unknown`, never a price.

Each fault is served on 127.0.0.1 (pytest-httpserver for HTTP-level faults, a raw TCP server
for the low-level ones) beside a healthy product whose drop must still be alerted. A pass is
what `price-monitor check` does (watched_products, check_all with a real Fetcher and History,
deliver_due to a real receiver); the Fetcher gets a short timeout and a sleep that only
records, so Retry-After waits are checked without being waited out.
"""

from __future__ import annotations

import asyncio
import re
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.channels import Notifier
from monitor.check import check_all, watched_products
from monitor.clock import utcnow
from monitor.config import Config, MonitorSettings, load_config
from monitor.delivery import deliver_due
from monitor.errors import FetchError
from monitor.fetch import Fetcher
from monitor.history import History
from monitor.models import AlertKind, OutboxStatus, Status
from monitor.reader import PageReader
from monitor.rules import MAX_BACKOFF, polling_backoff
from monitor.testing import (
    Answer,
    DaemonProcess,
    JsonReceiver,
    LoopbackShop,
    ShopProduct,
    order_table,
    product_page,
    run_cli,
    write_config,
)
from tests.reliability.conftest import (
    Connection,
    RawServer,
    closed_port,
    gzip_bomb,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shops"
FAILING_AFTER = 2
PASSES = 3  # one under the threshold, the one that reaches it, one past it
TIMEOUT = httpx.Timeout(0.5)
FIFTY_MB = 50 * 1024 * 1024

# The faulty product's page, when it is served at all, shows a drop (4599 < 4999 paid): a
# fault misread as a price would be alerted, and the outbox assertions would catch it.
PAGE = product_page(
    ShopProduct(
        "/product", "Faulty phone", Decimal("4599.00"), "CNY", "SKU-1", (("Case", Decimal("79")),)
    )
).encode()


@dataclass
class Servers:
    httpserver: HTTPServer
    raw: Callable[[Callable[[Connection], None]], RawServer]
    started: list[RawServer] = field(default_factory=list)

    def http(self, respond: Callable[[Request], Response], path: str = "/product") -> str:
        self.httpserver.expect_request(path).respond_with_handler(respond)
        return self.httpserver.url_for(path)

    def tcp(self, behaviour: Callable[[Connection], None]) -> str:
        server = self.raw(behaviour)
        self.started.append(server)
        return server.url()

    def requests(self, url: str) -> int:
        """How many requests the faulty product's server saw."""
        for server in self.started:
            if url == server.url():
                return server.requests
        path = "/" + url.split("/", 3)[3]
        return sum(1 for r, _ in self.httpserver.log if r.path == path)


@dataclass(frozen=True)
class Fault:
    serve: Callable[[Servers], str]
    reason: str  # a regex the recorded last_reason must match
    status: Status = Status.UNKNOWN
    retries: int = 0  # [monitor] retries: tries after the first within one check
    requests_per_pass: int | None = 1  # None: no server to count (connection refused)
    retry_after: float | None = None  # the wait the shop asked for between two tries


def answer(status: int, body: bytes | str = b"", **headers: str) -> Callable[[Servers], str]:
    def serve(servers: Servers) -> str:
        def respond(request: Request) -> Response:
            return Response(body, status=status, headers=headers)

        return servers.http(respond)

    return serve


def page(body: bytes, content_type: str = "text/html; charset=utf-8") -> Callable[[Servers], str]:
    def serve(servers: Servers) -> str:
        return servers.http(lambda request: Response(body, content_type=content_type))

    return serve


def refused(servers: Servers) -> str:
    return f"http://127.0.0.1:{closed_port()}/product"


def redirect_loop(servers: Servers) -> str:
    def respond(request: Request) -> Response:
        return Response(status=302, headers={"Location": "/product"})

    return servers.http(respond)


def redirect_to(location: str) -> Callable[[Servers], str]:
    def serve(servers: Servers) -> str:
        return servers.http(lambda request: Response(status=302, headers={"Location": location}))

    return serve


def redirect_off_site(servers: Servers) -> str:
    """To the same server under another name: localhost (the product's site) to 127.0.0.1."""
    elsewhere = f"http://127.0.0.1:{servers.httpserver.port}/product"
    return servers.http(lambda request: Response(status=302, headers={"Location": elsewhere}))


def unparseable_redirect(conn: Connection) -> None:
    conn.send(conn.head_bytes("302 Found", Location="http://[::1", Content_Length=0))


def reset_mid_body(conn: Connection) -> None:
    if conn.head(Content_Length=len(PAGE)) and conn.send(PAGE[: len(PAGE) // 3]):
        conn.reset()


def slow_drip(conn: Connection) -> None:
    """One byte a second, for as long as the client listens (or the server closes)."""
    if not conn.head(Content_Length=len(PAGE)):
        return
    for index in range(len(PAGE)):
        if not conn.pause(1.0) or not conn.send(PAGE[index : index + 1]):
            return


def fifty_mb(*, declared: bool) -> Callable[[Connection], None]:
    chunk = b"<p>" + b"x" * 65530 + b"</p>"

    def behave(conn: Connection) -> None:
        head = {"Content_Length": FIFTY_MB} if declared else {"Connection": "close"}
        if not conn.head(**head):
            return
        for _ in range(FIFTY_MB // len(chunk)):
            if not conn.send(chunk):
                return

    return behave


def bomb(conn: Connection) -> None:
    data = gzip_bomb()
    # Head and body in one write, so the client's first read holds 64 KiB of the body:
    # about 64 MiB once inflated.
    conn.send(conn.head_bytes(Content_Encoding="gzip", Content_Length=len(data)) + data)


def tcp(behaviour: Callable[[Connection], None]) -> Callable[[Servers], str]:
    return lambda servers: servers.tcp(behaviour)


def jsonld_only(script: str) -> bytes:
    """A product page whose only price source is one JSON-LD block."""
    text = "Sturdy, light and quiet. " * 40
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>Faulty phone</title>'
        f'<script type="application/ld+json">{script}</script></head>'
        f"<body><main><h1>Faulty phone</h1><p>{text}</p></main></body></html>"
    ).encode()


_CUT = PAGE.index(b'"price": "') + len(b'"price": "45')

FAULTS = {
    "connection-refused": Fault(refused, r"^ConnectError", requests_per_pass=None),
    "reset-mid-body": Fault(tcp(reset_mid_body), r"RemoteProtocolError|ReadError"),
    "slow-drip-1-byte-a-second": Fault(tcp(slow_drip), r"^timed out \(ReadTimeout\)"),
    "http-500": Fault(answer(500, "oops"), r"^HTTP 500$"),
    "http-502-retry-after": Fault(
        answer(502, "bad gateway", **{"Retry-After": "7"}),
        r"^HTTP 502$",
        retries=1,
        requests_per_pass=2,
        retry_after=7.0,
    ),
    "http-503-retry-after": Fault(
        answer(503, "maintenance", **{"Retry-After": "30"}),
        r"^HTTP 503$",
        retries=1,
        requests_per_pass=2,
        retry_after=30.0,
    ),
    "http-429-retry-after": Fault(
        answer(429, "slow down", **{"Retry-After": "5"}),
        r"^HTTP 429$",
        retries=1,
        requests_per_pass=2,
        retry_after=5.0,
    ),
    "http-429-retry-after-too-long": Fault(  # over fetch.MAX_RETRY_AFTER: give up now
        answer(429, "come back tomorrow", **{"Retry-After": "86400"}),
        r"^HTTP 429$",
        retries=1,
        requests_per_pass=1,
    ),
    "http-404": Fault(answer(404, "no such product"), r"^HTTP 404: ", status=Status.NOT_FOUND),
    "http-410": Fault(answer(410, "gone for good"), r"^HTTP 410: ", status=Status.NOT_FOUND),
    "redirect-loop": Fault(  # the first request and ten redirects, then it gives up
        redirect_loop, r"^more than 10 redirects$", requests_per_pass=11
    ),
    "redirect-to-javascript": Fault(
        redirect_to("javascript:alert(1)"), r"^redirected to a javascript: URL; only http"
    ),
    "redirect-unparseable": Fault(
        tcp(unparseable_redirect), r"^redirected to an invalid URL: Invalid port"
    ),
    "redirect-to-another-site": Fault(
        redirect_off_site, r"^redirected to another site: 127\.0\.0\.1$"
    ),
    "50-mb-declared": Fault(tcp(fifty_mb(declared=True)), r"page of 52428800 bytes is over the"),
    "50-mb-streamed": Fault(
        tcp(fifty_mb(declared=False)), r"over the \d+-byte cap; stopped reading"
    ),
    "gzip-bomb-1-gb": Fault(tcp(bomb), r"over the \d+-byte cap; stopped reading"),
    "invalid-utf-8": Fault(page(bytes(range(0x80, 0x100)) * 64), r"^no price"),
    "utf-16-declared-utf-8": Fault(page(PAGE.decode().encode("utf-16-le")), r"^no price"),
    "utf-8-declared-utf-16": Fault(page(PAGE, "text/html; charset=utf-16"), r"^no price"),
    "truncated-html": Fault(page(PAGE[:_CUT]), r"needs JavaScript|no price"),
    "json-ld-not-json": Fault(
        # a template tag the shop's server never rendered: no lenient parser makes it JSON
        page(jsonld_only('{"@type": "Product", "offers": {{ product.offers | json }} }')),
        r"^no price",
    ),
    "json-ld-truncated": Fault(
        page(jsonld_only('{"@type": "Product", "offers": {"price": "45')), r"^no price"
    ),
    "captcha-served-200": Fault(
        page((FIXTURES / "amazon" / "captcha.html").read_bytes()), r"^blocked: "
    ),
    "challenge-served-200": Fault(
        page((FIXTURES / "generic" / "cloudflare_challenge.html").read_bytes()), r"^blocked: "
    ),
}
FAULT_PARAMS = [pytest.param(fault, id=name) for name, fault in FAULTS.items()]
FAULT_PARAMS.append(
    pytest.param(
        Fault(page(PAGE.replace(b"4599.00", b"45\xff\xfe99.00")), r"."),
        id="invalid-utf-8-inside-the-price",
    )
)


async def check_pass(config: Config, *, sleeps: list[float]) -> None:
    """One `price-monitor check`: every watched product, then the outbox."""

    async def sleep(seconds: float) -> None:  # Retry-After and backoff waits, recorded
        sleeps.append(seconds)

    history = History.open(config.database)
    try:
        products = watched_products(config, history, now=utcnow())
        async with (
            Fetcher(config.monitor, timeout=TIMEOUT, sleep=sleep) as fetcher,
            PageReader() as reader,
        ):
            await check_all(
                products,
                config=config,
                fetcher=fetcher,
                reader=reader,
                history=history,
                clock=utcnow,
            )
        await deliver_due(
            history.outbox, Notifier(config.notify.urls), clock=utcnow, quiet=config.quiet_hours
        )
    finally:
        history.close()


@pytest.mark.parametrize("fault", FAULT_PARAMS)
def test_a_shop_fault_is_one_unknown_and_only_checks_failing_is_alerted(
    fault: Fault,
    tmp_path: Path,
    shop: LoopbackShop,
    httpserver: HTTPServer,
    raw_server: Callable[[Callable[[Connection], None]], RawServer],
    receiver: JsonReceiver,
    request: pytest.FixtureRequest,
) -> None:
    servers = Servers(httpserver, raw_server)
    faulty_url = fault.serve(servers)
    healthy_url = shop.add("/healthy", "4999.00")
    path = write_config(
        tmp_path / "config.toml",
        orders=[order_table(faulty_url, "FAULTY"), order_table(healthy_url, "HEALTHY")],
        urls=[receiver.url],
        monitor={"failing_after": FAILING_AFTER, "retries": fault.retries},
    )
    config = load_config(path)
    history = History.open(config.database)
    request.addfinalizer(history.close)
    faulty = history.product_id(faulty_url, None, now=utcnow())
    healthy = history.product_id(healthy_url, None, now=utcnow())

    failures: list[int] = []
    sleeps: list[float] = []
    for index in range(PASSES):
        if index == 1:
            shop.set_price("/healthy", "4599.00")  # the healthy product drops meanwhile
        asyncio.run(check_pass(config, sleeps=sleeps))
        failures.append(history.product_state(faulty).failures)

    state = history.product_state(faulty)
    assert state.last_status == fault.status
    assert state.last_reason and re.search(fault.reason, state.last_reason), state.last_reason
    assert history.price_runs(faulty) == []  # a fault is never a price
    if fault.requests_per_pass is not None:
        assert servers.requests(faulty_url) == PASSES * fault.requests_per_pass
    if fault.retry_after is not None:
        assert sleeps.count(fault.retry_after) == PASSES  # the shop's wait, not our own backoff
    elif fault.retries:
        assert sleeps == []  # a Retry-After over the limit: gave up without waiting

    expected = [("HEALTHY", AlertKind.DROP)]
    if fault.status is Status.UNKNOWN:
        # The failures counter grows, so the daemon's schedule backs off further each time.
        assert failures == [1, 2, 3]
        interval = config.orders[0].interval
        waits = [polling_backoff(interval, n) for n in failures]
        assert waits[0] is None and waits[1] is not None and waits[2] is not None
        assert waits[1] < waits[2] <= max(MAX_BACKOFF, interval)
        expected.append(("FAULTY", AlertKind.CHECKS_FAILING))
    else:
        assert failures == [0, 0, 0]  # a gone product is an answer, not a failure
        expected.append(("FAULTY", AlertKind.PRODUCT_GONE))  # said once, not once per check
    alerts = history.outbox.entries()
    assert sorted((a.message.order_id, a.message.kind) for a in alerts) == sorted(expected)
    assert {a.status for a in alerts} == {OutboxStatus.SENT}
    assert [(r.price.amount, r.checks) for r in history.price_runs(healthy)] == [
        (Decimal("4999.00"), 1),
        (Decimal("4599.00"), PASSES - 1),
    ]

    messages = receiver.wait_for(len(expected))
    assert receiver.requests == len(expected)
    failing = [m for m in messages if "FAULTY" in m["title"] and "读不到价格" in m["title"]]
    assert len(failing) == (fault.status is Status.UNKNOWN)
    gone = [m for m in messages if "商品页已不存在" in m["title"]]
    assert len(gone) == (fault.status is Status.NOT_FOUND)
    for message in failing:
        assert "读不到价格" in message["title"]
        assert state.last_reason[:40] in message["message"]  # the last reason is in the alert


def test_price_monitor_check_keeps_going_past_many_broken_shops_at_once(
    tmp_path: Path,
    shop: LoopbackShop,
    httpserver: HTTPServer,
    raw_server: Callable[[Callable[[Connection], None]], RawServer],
    receiver: JsonReceiver,
) -> None:
    """The real `price-monitor check` command, with eight broken products in one config."""
    servers = Servers(httpserver, raw_server)
    broken = {
        "REFUSED": refused(servers),
        "RESET": servers.tcp(reset_mid_body),
        "HTTP500": servers.http(lambda r: Response("oops", status=500), "/500"),
        "LOOP": servers.http(lambda r: Response(status=302, headers={"Location": "/l"}), "/l"),
        "HUGE": servers.tcp(fifty_mb(declared=False)),
        "CAPTCHA": servers.http(
            lambda r: Response((FIXTURES / "amazon" / "captcha.html").read_bytes()), "/captcha"
        ),
        "GONE": servers.http(lambda r: Response("gone", status=410), "/gone"),
    }
    healthy_url = shop.add("/healthy", "4999.00")
    orders = [order_table(url, name) for name, url in broken.items()]
    path = write_config(
        tmp_path / "config.toml",
        orders=[*orders, order_table(healthy_url, "HEALTHY")],
        urls=[receiver.url],
        monitor={"failing_after": FAILING_AFTER},
    )
    outputs = []
    for index in range(PASSES):
        if index == 1:
            shop.set_price("/healthy", "4599.00")
        outputs.append(run_cli(path, "check").output)

    first, second, third = outputs
    assert "HEALTHY: ¥4,999.00 (json-ld)" in first
    assert "HEALTHY: ¥4,599.00 (json-ld), 1 new alert" in second
    assert "new alert" not in third.replace("HEALTHY", "")  # checks failing went out once
    for line in (
        "REFUSED: unknown: ConnectError",
        "RESET: unknown: ",
        "HTTP500: unknown: HTTP 500",
        "LOOP: unknown: more than 10 redirects",
        "HUGE: unknown: page is over the 5242880-byte cap; stopped reading",
        "CAPTCHA: unknown: blocked: ",
        "GONE: not_found: HTTP 410: the product page is gone",
    ):
        assert all(line in output for output in outputs), line
    assert "alerts: 1 sent, 0 failed" in first  # the product page that is gone
    assert "alerts: 7 sent, 0 failed" in second  # 6 checks failing, 1 drop

    messages = receiver.wait_for(8)
    titles = sorted(m["title"] for m in messages)
    assert sum("读不到价格" in t for t in titles) == 6
    assert [t for t in titles if "GONE" in t] == ["商品页已不存在：订单 GONE"]
    assert sum("HEALTHY" in t and "¥400.00" in t for t in titles) == 1
    assert receiver.requests == 8
    status = run_cli(path, "status").output
    assert "HEALTHY" in status and "¥4,599.00" in status


# --- memory and time bounds --------------------------------------------------------------------

MIB = 1024 * 1024
CAP = 2 * MIB  # over the 1 GiB bomb's 1.01 MiB on the wire, so its head passes


def peak_memory_of_fetch(url: str) -> tuple[str, int]:
    """Fetch ``url`` with a 2 MiB cap; return the error and the peak of traced allocations."""

    async def go() -> str:
        async with Fetcher(
            MonitorSettings(host_delay="0s", retries=0), max_bytes=CAP, timeout=TIMEOUT
        ) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(url)
            return caught.value.reason

    tracemalloc.start()
    try:
        reason = asyncio.run(go())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return reason, peak


def test_a_50_mb_stream_is_cut_off_at_the_cap_in_bounded_memory(
    raw_server: Callable[[Callable[[Connection], None]], RawServer],
) -> None:
    server = raw_server(fifty_mb(declared=False))
    reason, peak = peak_memory_of_fetch(server.url())
    assert "stopped reading" in reason
    assert peak < 8 * CAP, f"peak {peak / MIB:.1f} MiB for a {CAP / MIB:.0f} MiB cap"
    assert server.sent < FIFTY_MB // 2  # the rest was never read


def test_a_gzip_bomb_is_refused_in_bounded_memory(
    raw_server: Callable[[Callable[[Connection], None]], RawServer],
) -> None:
    reason, peak = peak_memory_of_fetch(raw_server(bomb).url())
    assert "cap" in reason
    assert peak < 8 * CAP, f"peak {peak / MIB:.1f} MiB for a {CAP / MIB:.0f} MiB cap"


def test_a_trickle_inside_the_read_timeout_is_cut_off_by_a_total_deadline(
    raw_server: Callable[[Callable[[Connection], None]], RawServer],
) -> None:
    def trickle(conn: Connection) -> None:  # a byte every 0.05 s for 1.5 s, then hang up
        if conn.head(Content_Length=len(PAGE)):
            for index in range(30):
                if not conn.pause(0.05) or not conn.send(PAGE[index : index + 1]):
                    return

    url = raw_server(trickle).url()

    async def go() -> str:
        async with Fetcher(
            MonitorSettings(host_delay="0s", retries=0), timeout=httpx.Timeout(0.2)
        ) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(url)
            return caught.value.reason

    started = time.monotonic()
    reason = asyncio.run(go())
    elapsed = time.monotonic() - started
    # A total deadline of a few read timeouts (say 4 x 0.2 s) ends it well before the
    # shop hangs up at 1.5 s; without one, the fetch lasts exactly as long as the trickle.
    assert elapsed < 1.2, f"the fetch took {elapsed:.1f} s ({reason})"
    assert "timed out" in reason


def test_backoff_is_none_at_first_then_doubles_up_to_the_cap() -> None:
    for seconds in (1.0, 60.0, 7200.0, 86400.0):
        interval = timedelta(seconds=seconds)
        waits = [polling_backoff(interval, n) for n in range(40)]
        assert waits[0] is None and waits[1] is None
        later = [w for w in waits[2:] if w is not None]
        assert len(later) == 38
        assert later == sorted(later)  # never shorter after another failure
        longest = max(MAX_BACKOFF, interval)
        assert later[0] == min(2 * interval, longest)
        assert later[-1] == longest


def test_the_daemon_waits_out_a_retry_after_before_asking_the_shop_again(
    tmp_path: Path,
    shop: LoopbackShop,
    receiver: JsonReceiver,
    daemon_process: Callable[..., DaemonProcess],
) -> None:
    url = shop.add("/product", "4999.00")
    # Far more 429s than the daemon asks for while the test runs: the shop always says no.
    shop.script("/product", *[Answer(429, b"slow down", {"Retry-After": "3"})] * 20)
    path = write_config(
        tmp_path / "config.toml",
        orders=[order_table(url, "PHONE")],
        urls=[receiver.url],  # interval 1 s, retries 0: every 429 ends a check
    )
    daemon = daemon_process(path)
    shop.wait_for_requests("/product", 2, timeout=10)
    daemon.stop()
    arrivals = shop.request_times("/product")
    assert shop.requests("/product") < 20  # every request was answered with the 429
    assert arrivals[1] - arrivals[0] >= 2.9  # the shop said: not for 3 s
