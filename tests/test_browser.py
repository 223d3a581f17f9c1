"""Shops that draw their price with JavaScript, rendered in the system's Chromium.

A real Chromium (Debian's, which ``.ci/run`` installs) renders pages a real HTTP server on
127.0.0.1 serves; ``price-monitor check`` and ``probe`` run as users run them.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitor.testing import DaemonProcess, MailSink, order_table, run_cli, write_config

pytest.importorskip(
    "playwright", reason="the browser extra is not installed: pip install '.[browser]'"
)
if not any(shutil.which(n) for n in ("chromium", "chromium-browser")):
    pytest.skip("no Chromium on PATH: apt-get install chromium", allow_module_level=True)

PRICE_BY_SCRIPT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lamp - JS shop</title></head>
<body><h1>Lamp</h1><div id="buy"><span class="price" id="price"></span></div>
<img src="/photo.png"><script>
setTimeout(() => { document.getElementById('price').textContent = '$41.50'; }, 50);
</script></body></html>"""

PRICE_FROM_API = """<!doctype html><html lang="en"><head><title>Kettle - JS shop</title></head>
<body><h1>Kettle</h1><div id="buy"><span class="price" id="price">…</span></div><script>
fetch('/api/price?id=77').then(r => r.json()).then(d => {
  document.getElementById('price').textContent = '$' + d.data.items[0].price;
});
</script></body></html>"""

API_ANSWER = {"data": {"items": [{"id": "77", "name": "Kettle", "price": "23.80"}]}}

SIGNED_IN_ONLY = """<!doctype html><html lang="en"><head><title>Members - JS shop</title></head>
<body><h1>Members' price</h1><span class="price" id="price"></span><script>
document.getElementById('price').textContent =
  document.cookie.includes('session=ok') ? '$12.00' : '';
</script></body></html>"""

LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
</head><body><form><input name="user"><input type="password" name="pass"></form></body></html>"""

NEVER_SETTLES = """<!doctype html><html><head><title>Busy</title></head><body>
<script>while (true) {}</script></body></html>"""


class JsShop:
    """Pages, an API and a picture on 127.0.0.1, counting what is asked for."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, bytes]] = {
            "/lamp": ("text/html", PRICE_BY_SCRIPT.encode()),
            "/lamp-cn": ("text/html", PRICE_BY_SCRIPT.replace("$41.50", "¥41.50").encode()),
            "/kettle": ("text/html", PRICE_FROM_API.encode()),
            "/members": ("text/html", SIGNED_IN_ONLY.encode()),
            "/busy": ("text/html", NEVER_SETTLES.encode()),
            "/api/price": ("application/json", json.dumps(API_ANSWER).encode()),
            "/photo.png": ("image/png", b"\x89PNG\r\n\x1a\n"),
            "/passport/login": ("text/html", LOGIN_PAGE.encode()),
        }
        self.redirects = {"/account-only": "/passport/login?next=/account-only"}
        self.asked: list[str] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                shop.asked.append(path)
                found = shop.pages.get(path)
                if path in shop.redirects:
                    self.send_response(302)
                    self.send_header("Location", shop.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if found is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", found[0])
                self.send_header("Content-Length", str(len(found[1])))
                self.end_headers()
                self.wfile.write(found[1])

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop() -> Iterator[JsShop]:
    served = JsShop()
    yield served
    served.close()


JS_SHOP = """
[shops.jsshop]
name = "JS Shop"
currency = "USD"
window_days = 14
min_interval = "1s"
fetch = "browser"
"""

JS_SHOP_WITH_API = (
    JS_SHOP
    + """
[shops.jsshop.api]
responses = "/api/price\\\\?id="
items = "data.items"
price = "price"
"""
)


def config_for(
    tmp_path: Path, shop: JsShop, path: str, *, extra: str = JS_SHOP, **order: object
) -> Path:
    """An order paid below the page's price: read, and nothing owed (no screenshot taken)."""
    return write_config(
        tmp_path / "config.toml",
        orders=[order_table(shop.url(path), "JS-1", shop="jsshop", paid="10.00", **order)],
        urls=["console://"],
        extra=extra,
    )


def statuses(config: Path) -> dict[str, dict[str, object]]:
    lines = run_cli(config, "status", "--json").output.splitlines()
    return {row["order"]: row for row in map(json.loads, lines)}


def current_price(config: Path, order: str = "JS-1") -> Decimal | None:
    current = statuses(config)[order]["current"]
    return Decimal(str(current)) if current is not None else None


def test_a_price_a_script_inserts_is_unknown_over_http_and_read_in_the_browser(
    tmp_path: Path, shop: JsShop
) -> None:
    over_http = config_for(tmp_path, shop, "/lamp", fetch="http", selector="#price")
    out = run_cli(over_http, "check").output
    assert 'JS-1: unknown: the selector "#price" matched no price' in out

    rendered = config_for(tmp_path, shop, "/lamp", selector="#price")  # the shop's fetch
    run_cli(rendered, "check")
    assert current_price(rendered) == Decimal("41.50")
    assert "/photo.png" not in shop.asked  # images are never loaded


def test_a_price_the_page_loads_from_json_is_read_from_the_dom_and_from_the_response(
    tmp_path: Path, shop: JsShop
) -> None:
    from_dom = config_for(tmp_path, shop, "/kettle", selector="#price")
    probed = json.loads(run_cli(from_dom, "probe", "--order", "JS-1", "--json").output)
    assert (probed["status"], probed["amount"], probed["strategy"]) == (
        "price",
        "23.80",
        "selector",
    )

    from_json = config_for(tmp_path, shop, "/kettle", extra=JS_SHOP_WITH_API)
    out = run_cli(from_json, "probe", "--order", "JS-1", "--json").output
    probed = json.loads(out.splitlines()[0])
    assert (probed["status"], probed["amount"], probed["strategy"]) == ("price", "23.80", "api")


def test_probe_fetch_browser_renders_a_page_a_plain_probe_cannot_read(shop: JsShop) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    def probe(*fetch: str) -> dict[str, object]:
        args = ["probe", *fetch, "--currency", "USD", "--selector", "#price", "--json"]
        answer = CliRunner().invoke(cli, [*args, shop.url("/lamp")])
        assert answer.exit_code == 0, answer.output
        verdict: dict[str, object] = json.loads(answer.output)
        return verdict

    assert probe()["status"] == "unknown"
    rendered = probe("--fetch", "browser")
    assert (rendered["status"], rendered["amount"], rendered["currency"]) == (
        "price",
        "41.50",
        "USD",
    )


def test_the_shops_cookies_file_signs_the_browser_in(tmp_path: Path, shop: JsShop) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tsession\tok\n",
        "utf-8",
    )
    signed_in = JS_SHOP + f'cookies_file = "{cookies}"\n'
    config = config_for(tmp_path, shop, "/members", extra=signed_in, selector="#price")
    run_cli(config, "check")
    assert current_price(config) == Decimal("12.00")


def test_a_page_that_never_settles_is_given_up_within_the_time_limit_and_the_next_is_read(
    tmp_path: Path, shop: JsShop
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        orders=[
            order_table(shop.url("/busy"), "BUSY", shop="jsshop", paid="50.00"),
            order_table(shop.url("/lamp"), "LAMP", shop="jsshop", paid="50.00", selector="#price"),
        ],
        urls=["console://"],
        monitor={"read_limit": "3s"},
        extra=JS_SHOP,
    )
    out = run_cli(config, "check").output
    assert "took too long to render (over 3 s)" in out
    assert current_price(config, "LAMP") == Decimal("41.50")
    assert current_price(config, "BUSY") is None


def test_a_missing_chromium_is_named_with_its_install_command(tmp_path: Path, shop: JsShop) -> None:
    config = write_config(
        tmp_path / "config.toml",
        orders=[order_table(shop.url("/lamp"), "JS-1", shop="jsshop", paid="50.00")],
        urls=["console://"],
        monitor={"chromium": str(tmp_path / "no-chromium")},
        extra=JS_SHOP,
    )
    out = run_cli(config, "check").output
    assert f"no Chromium at {tmp_path / 'no-chromium'}" in out
    assert "apt-get install chromium, or correct the path" in out


ZH_JS_SHOP = """
[shops.jsshop]
name = "脚本商城"
currency = "CNY"
language = "zh"
timezone = "Asia/Shanghai"
window_days = 14
min_interval = "1s"
claim = "联系在线客服"
fetch = "browser"
"""


def test_a_confirmed_drop_mails_a_screenshot_and_the_request_says_so(
    tmp_path: Path, shop: JsShop, mail: MailSink
) -> None:
    from tests.test_alerts import email_parts

    config = write_config(
        tmp_path / "config.toml",
        orders=[
            order_table(
                shop.url("/lamp-cn"), "JS-1", shop="jsshop", paid="50.00", selector="#price"
            )
        ],
        urls=[mail.url()],
        monitor={"confirm": "1s"},  # the drop is read again before it is sent
        extra=ZH_JS_SHOP,
    )
    checked = run_cli(config, "check")
    try:
        (message,) = mail.wait_for(1)
    except AssertionError as exc:  # say what the check did
        raise AssertionError(f"{exc}; the check said:\n{checked.output}") from None
    text, attachments = email_parts(message)
    assert "差价：¥8.50 × 1 = ¥8.50" in text
    assert "截图见附件。" in text
    (png,) = [data for name, data in attachments if name.endswith(".screen.png")]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert "/photo.png" in shop.asked  # the screenshot shows the page with its images
    kept = sorted(p.name for p in (tmp_path / "evidence").iterdir())
    assert len([k for k in kept if k.endswith(".screen.png")]) == 1
    assert len([k for k in kept if k.endswith(".html.gz")]) == 1


def test_a_browser_that_crashed_is_replaced_before_the_next_page(shop: JsShop) -> None:
    import asyncio
    import contextlib
    import os
    import signal

    from monitor.browser import Browser, chromium_processes
    from monitor.models import FetchMode, Source

    source = Source(shop.url("/lamp"), fetch=FetchMode.BROWSER, wait_for="#price")

    async def scenario() -> tuple[str, str, list[int]]:
        browser = Browser()
        try:
            first = await browser.render(source, time_limit=20, max_bytes=10**7)
            crashed = chromium_processes()
            for pid in crashed:
                # As the OOM killer would; one may be gone already, with the process it was a
                # child of.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for _ in range(200):  # until Playwright has seen it go
                if not browser._browser.is_connected():
                    break
                await asyncio.sleep(0.01)
            second = await browser.render(source, time_limit=20, max_bytes=10**7)
            return first.html, second.html, crashed
        finally:
            await browser.aclose()

    first, second, crashed = asyncio.run(scenario())
    assert crashed  # there was a browser to kill
    assert '<span class="price" id="price">$41.50</span>' in first
    assert '<span class="price" id="price">$41.50</span>' in second
    assert chromium_processes() == []  # closed with the fetcher


def test_expired_cookies_are_alerted_once_for_the_shop_and_never_read_as_a_price(
    tmp_path: Path, shop: JsShop
) -> None:
    import os

    from monitor.testing import JsonReceiver

    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n", "utf-8")  # nothing left that signs in
    receiver = JsonReceiver()
    try:
        config = write_config(
            tmp_path / "config.toml",
            orders=[
                order_table(shop.url("/account-only"), "JS-1", shop="jsshop", paid="50.00"),
                order_table(shop.url("/account-only?v=2"), "JS-2", shop="jsshop", paid="60.00"),
            ],
            urls=[receiver.url],
            extra=JS_SHOP + f'cookies_file = "{cookies}"\n',
        )
        out = run_cli(config, "check").output
        assert "JS-1: unknown: blocked: the shop redirected to a login page" in out
        run_cli(config, "check")  # still expired: said already
        (alert,) = receiver.wait_for(1)
        assert alert["title"] == "Cookies expired for JS Shop: export them again"
        assert "Sign in to JS Shop in your browser, export cookies.txt again" in alert["message"]
        assert current_price(config) is None and current_price(config, "JS-2") is None

        later = cookies.stat().st_mtime_ns + 10**9
        os.utime(cookies, ns=(later, later))  # exported again, and expired again
        run_cli(config, "check")
        assert len(receiver.wait_for(2)) == 2
    finally:
        receiver.close()


def test_a_missing_browser_extra_is_named_with_its_install_command(
    tmp_path: Path, shop: JsShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "playwright.async_api", None)  # as if not installed
    config = config_for(tmp_path, shop, "/lamp", selector="#price")
    out = run_cli(config, "check").output
    assert 'JS-1: unknown: fetch = "browser" needs Playwright, which is not installed: ' in out
    assert "pip install 'price-monitor[browser]'" in out


def browsers_running() -> int:
    """Chromium processes of Playwright's, of any process: their profile says whose."""
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and b"playwright_chromiumdev_profile" in (entry / "cmdline").read_bytes()
            ):
                count += 1
        except OSError:
            continue
    return count


def test_the_daemon_renders_beside_a_check_and_a_retry_and_alerts_once(
    tmp_path: Path, shop: JsShop, daemon_process: Callable[..., DaemonProcess]
) -> None:
    import time

    from monitor.testing import JsonReceiver

    receiver = JsonReceiver()
    try:
        config = write_config(
            tmp_path / "config.toml",
            orders=[
                order_table(
                    shop.url("/lamp-cn"), "JS-1", shop="jsshop", paid="50.00", selector="#price"
                )
            ],
            urls=[receiver.url],
            extra=ZH_JS_SHOP,
        )
        daemon = daemon_process(config)
        run_cli(config, "check")  # beside the service, as a user does
        run_cli(config, "alerts", "--retry")
        deadline = time.monotonic() + 60
        while shop.asked.count("/lamp-cn") < 6 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the daemon has read the page several times too
        assert shop.asked.count("/lamp-cn") >= 6, daemon.log
        assert daemon.stop() == 0
        drops = [m for m in receiver.messages if "¥8.50" in m["title"]]
        assert len(drops) == 1, [m["title"] for m in receiver.messages]
        assert "Traceback" not in daemon.log
        assert browsers_running() == 0  # the daemon closed its browser as it stopped
    finally:
        receiver.close()
