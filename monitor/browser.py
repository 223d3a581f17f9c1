"""Pages rendered in Chromium, for shops that draw their price with JavaScript.

``fetch = "browser"`` (a shop's or an order's) sends a product page here instead of to plain
HTTP. Playwright drives the system's Chromium (Debian's ``chromium``: Playwright's own
browser downloads are never used), installed with the optional extra
``price-monitor[browser]``. The rendered DOM is read by the same strategies as a fetched
page, in the same page readers (``monitor.reader``); a shop's API spec with ``responses``
reads the JSON the page loads itself instead.

One browser serves the process, ``PAGES`` pages at once, each in a context of its own
(cookies from the shop's cookies file, nothing kept between two pages). Images, fonts and
media are never loaded. A render waits for the order's selector when there is one, else for
the network to go quiet, and ends within the page's time limit, whatever the page does. A
browser that crashed, that rendered ``RESTART_AFTER`` pages, or whose processes grew past
``MEMORY_LIMIT`` is replaced before the next page; it is closed with the fetcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import FetchError
from monitor.fetch import USER_AGENT, cookie_jar

if TYPE_CHECKING:
    from monitor.models import Source

logger = logging.getLogger(__name__)

PAGES = 2  # rendered at once
RESTART_AFTER = 500  # pages, then a fresh browser: a long-lived one only grows
MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes resident, all the browser's processes together
QUIET_WAIT = 5.0  # seconds the network may take to go quiet, after the page has loaded
BLOCKED = frozenset({"image", "font", "media"})
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
INSTALL_EXTRA = "pip install 'price-monitor[browser]'"
INSTALL_CHROMIUM = "apt-get install chromium"
# Chromium as a quiet servant: no updates, syncing, metrics or QUIC of its own, and
# /tmp instead of /dev/shm, which containers keep small.
ARGUMENTS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A page as the browser left it: where it ended, the status of its document, its DOM,
    and the first JSON response the source's ``responses`` matched (its URL and text)."""

    url: str
    status: int
    html: str
    json_url: str = ""
    json: str | None = None
    png: bytes | None = None  # the screenshot, when one was asked for


def find_chromium(configured: Path | None = None) -> str:
    """Return the Chromium to drive: ``configured``, else the first on PATH. Raise
    FetchError naming the install command when there is none."""
    if configured is not None:
        if os.access(configured, os.X_OK):
            return str(configured)
        raise FetchError(
            f"no Chromium at {configured} (the config's [monitor] chromium): "
            f"{INSTALL_CHROMIUM}, or correct the path"
        )
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise FetchError(
        f'fetch = "browser" needs Chromium, and none was found: {INSTALL_CHROMIUM} '
        "(or name one with [monitor] chromium)"
    )


class Browser:
    """The process's Chromium, started with its first page; use ``render`` and ``aclose``."""

    def __init__(
        self,
        *,
        chromium: Path | None = None,
        pages: int = PAGES,
        restart_after: int = RESTART_AFTER,
        memory_limit: int = MEMORY_LIMIT,
    ) -> None:
        self.chromium = chromium
        self.restart_after = restart_after
        self.memory_limit = memory_limit
        self._pages = asyncio.Semaphore(pages)
        self._starting = asyncio.Lock()
        self._playwright: Any = None
        self._browser: Any = None
        self._rendered = 0  # pages, by this browser
        self._rendering = 0  # pages now

    async def render(
        self, source: Source, *, time_limit: float, max_bytes: int, screenshot: bool = False
    ) -> Rendered:
        """Render the page of ``source`` within ``time_limit`` seconds, with a screenshot
        (its images loaded then) when asked; raise FetchError when it cannot be (no browser,
        a crash, a page over ``max_bytes``, too slow)."""
        async with self._pages:
            browser = await self._started()
            self._rendering += 1
            try:
                async with asyncio.timeout(time_limit):
                    return await _render(browser, source, max_bytes, screenshot)
            except TimeoutError:
                raise FetchError(
                    f"the page took too long to render (over {time_limit:g} s)", retryable=True
                ) from None
            except FetchError:
                raise
            except Exception as exc:  # Playwright's errors, a browser that crashed mid-page
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise FetchError(
                    f"the browser could not render the page: {reason or type(exc).__name__}"[:200],
                    retryable=True,
                ) from None
            finally:
                self._rendering -= 1
                self._rendered += 1

    async def aclose(self) -> None:
        await self._stop()

    async def _started(self) -> Any:
        async with self._starting:
            if self._browser is not None and self._worn_out():
                await self._stop()
            if self._browser is None:
                await self._start()
            return self._browser

    def _worn_out(self) -> bool:
        """True when the browser should be replaced before its next page: it crashed, it
        rendered its share, or (between pages) its processes use too much memory."""
        if not self._browser.is_connected():
            logger.warning("the browser crashed; starting a new one")
            return True
        if self._rendered >= self.restart_after:
            return self._rendering == 0
        if self._rendering == 0:
            resident = browser_memory()
            if resident > self.memory_limit:
                logger.warning(
                    "the browser uses %d MB; starting a new one", resident // (1024 * 1024)
                )
                return True
        return False

    async def _start(self) -> None:
        try:
            from playwright.async_api import async_playwright
        except ImportError:
            raise FetchError(
                f'fetch = "browser" needs Playwright, which is not installed: {INSTALL_EXTRA}'
            ) from None
        executable = find_chromium(self.chromium)
        playwright = await async_playwright().start()
        try:
            self._browser = await playwright.chromium.launch(
                executable_path=executable, args=list(ARGUMENTS), headless=True
            )
        except Exception as exc:
            await playwright.stop()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FetchError(f"Chromium ({executable}) did not start: {first}"[:200]) from None
        self._playwright = playwright
        self._rendered = 0

    async def _stop(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        if browser is not None:
            with contextlib.suppress(Exception):  # it may have crashed already
                await browser.close()
        if playwright is not None:
            with contextlib.suppress(Exception):
                await playwright.stop()


async def _render(browser: Any, source: Source, max_bytes: int, screenshot: bool) -> Rendered:
    context = await browser.new_context(
        user_agent=USER_AGENT,
        extra_http_headers=dict(source.headers) or None,
        viewport={"width": 1280, "height": 900},
    )
    try:
        if source.cookies_file:
            await context.add_cookies(browser_cookies(source.cookies_file))
        if not screenshot:  # a screenshot shows the page as the user sees it
            await context.route("**/*", _without_heavy_resources)
        page = await context.new_page()
        pattern = re.compile(source.responses) if source.responses else None
        matched: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_response(response: Any) -> None:
            wanted = pattern is not None and pattern.search(response.url)
            if wanted and response.ok and not matched.done():
                matched.set_result(response)

        page.on("response", on_response)
        answer = await page.goto(source.url, wait_until="load")
        status = answer.status if answer is not None else 200
        if status in (404, 410):
            return Rendered(page.url, status, "")
        if status == 429 or status >= 500:
            raise FetchError(f"HTTP {status}", retryable=True)
        if status >= 400:
            raise FetchError(f"HTTP {status}")
        json_url, json = "", None
        if pattern is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(QUIET_WAIT):
                    response = await matched
                    json_url, json = response.url, await response.text()
        elif source.wait_for:
            with contextlib.suppress(Exception):  # no such element: the strategies say so
                await page.wait_for_selector(
                    source.wait_for, state="attached", timeout=QUIET_WAIT * 1000
                )
        else:
            with contextlib.suppress(Exception):  # a page that keeps polling is read as is
                await page.wait_for_load_state("networkidle", timeout=QUIET_WAIT * 1000)
        html = await page.content()
        if len(html) > max_bytes or (json is not None and len(json) > max_bytes):
            raise FetchError(f"rendered page is over the {max_bytes}-byte cap")
        png = await _screenshot(page, source.wait_for) if screenshot else None
        return Rendered(page.url, status, html, json_url, json, png)
    finally:
        with contextlib.suppress(Exception):
            await context.close()


async def _screenshot(page: Any, selector: str | None) -> bytes:
    """A PNG of the price: the selector's element with some of the page around it (the
    product's name is usually beside it), else the viewport."""
    if selector:
        with contextlib.suppress(Exception):  # no such element, or one not shown: the viewport
            box = await page.locator(selector).first.bounding_box(timeout=1000)
            if box and box["width"] > 0 and box["height"] > 0:
                clip = {
                    "x": max(box["x"] - 200, 0),
                    "y": max(box["y"] - 150, 0),
                    "width": box["width"] + 400,
                    "height": box["height"] + 300,
                }
                png: bytes = await page.screenshot(clip=clip, full_page=True)
                return png
    viewport: bytes = await page.screenshot()
    return viewport


async def _without_heavy_resources(route: Any) -> None:
    if route.request.resource_type in BLOCKED:
        await route.abort()
    else:
        await route.continue_()


def browser_cookies(path: str) -> list[dict[str, Any]]:
    """The cookies of a Netscape cookies.txt file, as Playwright takes them."""
    cookies = []
    for cookie in cookie_jar(path):
        entry: dict[str, Any] = {
            "name": cookie.name,
            "value": cookie.value or "",
            "domain": cookie.domain,
            "path": cookie.path or "/",
            "secure": bool(cookie.secure),
        }
        if cookie.expires:
            entry["expires"] = float(cookie.expires)
        cookies.append(entry)
    return cookies


def browser_memory() -> int:
    """Bytes this process's Chromium processes hold: their proportional set size, each
    shared page counted once in all (their RSS where the kernel gives no PSS). Chromium's
    processes share most of their pages."""
    return sum(_proportional_size(Path(f"/proc/{pid}")) for pid in chromium_processes())


def chromium_processes() -> list[int]:
    """The pids of this process's Chromium processes: its descendants named chrom*."""
    parents: dict[int, int] = {}
    named: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat[stat.rindex(")") + 2 :].split()[1])
        if stat[stat.index("(") + 1 : stat.rindex(")")].startswith("chrom"):
            named.append(pid)
    me = os.getpid()

    def ours(pid: int) -> bool:
        seen = 0
        while pid in parents and seen < 64:
            pid, seen = parents[pid], seen + 1
            if pid == me:
                return True
        return False

    return [pid for pid in named if ours(pid)]


def _proportional_size(process: Path) -> int:
    try:
        for line in (process / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
        return int((process / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
