"""Pages that are not the product: robot checks and login walls, gone products, app shells.

Each verdict is cheap on a normal product page: a title, a heading, a plain substring test
on the raw page; only a hit costs a closer look.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from monitor.extract.document import Document, clip
from monitor.models import LOGIN_PAGE

_BLOCKED_TITLES = re.compile(
    r"captcha|robot check|are you a robot|access denied|attention required|just a moment"
    r"|verify you are (a )?human|security check|access to this page has been denied|pardon our interruption"
    r"|安全验证|验证码|人机验证|访问受限|请登录|用户登录|登录页|京东验证|滑动验证",
    re.IGNORECASE,
)
_CHALLENGE = (
    "#challenge-form, #challenge-running, #cf-challenge-running, #px-captcha, .g-recaptcha, "
    '.h-captcha, iframe[src*="captcha"], form[action*="captcha"], form[action*="Captcha"], '
    'form[action*="validateCaptcha"], #nc_1_wrapper, #captcha-container, [id^="captcha"]'
)
_LOGIN_URL = re.compile(
    r"(^|[/.?&=])(login|signin|sign-in|serviceLogin|passport|ap/signin)([/.?&=]|$)", re.IGNORECASE
)
# "404" alone is not enough: product names carry numbers ("Air Max 404").
_GONE_TITLES = re.compile(
    r"page not found|product not found|item not found|^\s*not found\s*$"
    r"|\b404\b\s*[-:|]?\s*(?:not found|error|page)|(?:error|page)\s*[-:|]?\s*404\b"
    r"|商品不存在|页面不存在|该商品已下柜|商品已下架|no longer available",
    re.IGNORECASE,
)
# Phrases are first looked for with plain `in` on the raw page, which is a hundred times
# faster than a case-insensitive regex over 150 KB; only a hit costs a closer look.
_GONE_TEXT = (
    "该商品已下柜",
    "商品已下架",
    "商品不存在",
    "已停售",
    "no longer available",
    "product not found",
    "item not found",
    "has been discontinued",
)
# Fewer, shorter searches of the raw page than the phrases themselves: each is a pass over
# 150 KB. Only a hit costs the phrases, and then the visible text.
_GONE_HINTS = ("商品", "已停售", "not found", "no longer available", "discontinued")
_CHALLENGE_HINTS = ("aptcha", "hallenge", "nc_1_wrapper")
CHALLENGE_SCAN = 32 * 1024  # characters of a page searched for signs of a bot challenge


def blocked(page: Document) -> str | None:
    """Return why a page is a captcha, challenge or login wall instead of the product, or None."""
    return blocked_by_address(page) or blocked_by_challenge(page)


def blocked_by_address(page: Document) -> str | None:
    """Return why the page's title or address says it is a robot check or a login wall."""
    title = page.title
    found = _BLOCKED_TITLES.search(title) if title else None
    if found and found.group(0) in _SIGN_IN_TITLES:
        return f'blocked: the page asks to sign in, {LOGIN_PAGE} (title "{clip(title, 60)}")'
    if found:
        return f'blocked: the page is a robot check or login wall (title "{clip(title, 60)}")'
    if page.url:
        parts = urlsplit(page.url)
        if _LOGIN_URL.search(parts.netloc.split(".")[0] + "/" + parts.path + "?" + parts.query):
            return f"blocked: the shop redirected to {LOGIN_PAGE}"
    return None


# The blocked titles that are a login page, not a robot check.
_SIGN_IN_TITLES = frozenset({"请登录", "用户登录", "登录页"})


def blocked_by_challenge(page: Document) -> str | None:
    """Return why the page is a captcha or bot challenge by its content, or None."""
    # Challenge pages are small and say so early; a product page that embeds a captcha
    # widget further down (for reviews, a login box) is still the product page. The
    # selectors are slow on a big tree, so they run only when the page's start hints at one.
    head = page.text[:CHALLENGE_SCAN]
    if not any(hint in head for hint in _CHALLENGE_HINTS):
        return None
    if page.tree.css_first(_CHALLENGE) is not None:
        return "blocked: the page is a captcha or bot challenge"
    if page.contains("Enter the characters you see below"):
        return "blocked: the page is a robot check"
    return None


def gone(page: Document) -> str | None:
    """Return why a 200 page says the product is gone (off the shelf, not found), or None."""
    return gone_by_headline(page) or gone_by_text(page)


def gone_by_headline(page: Document) -> str | None:
    """Return why the page's title or heading says the product is gone, or None."""
    headline = f"{page.title} {page.heading}"
    if _GONE_TITLES.search(headline):
        return f'gone: the shop says the product is not available ("{clip(headline.strip(), 60)}")'
    return None


def gone_by_text(page: Document) -> str | None:
    """Return the phrase in the page's visible text that says the product is gone, or None.

    A cheap test on the raw page first (a few searches of 150 KB); only then the visible
    text, because shops also ship these phrases inside their JavaScript.
    """
    if not any(page.contains(hint, in_body=True) for hint in _GONE_HINTS):
        return None
    present = [phrase for phrase in _GONE_TEXT if page.contains(phrase, in_body=True)]
    if not present:
        return None
    visible = visible_text(page.tree)
    for phrase in present:
        if phrase in visible:
            return f'gone: the page says "{phrase}"'
    return None


def visible_text(tree: LexborHTMLParser) -> str:
    body = tree.body
    if body is None:
        return ""
    clone = LexborHTMLParser(body.html or "")
    clone.strip_tags(["script", "style", "noscript", "template"])
    return clone.body.text(separator=" ", strip=True) if clone.body else ""


# Where single-page apps mount the page they draw: React, Next.js, Vue, Nuxt, Gatsby, Angular.
_MOUNT_POINTS = (
    "#app, #root, #__next, #__nuxt, #___gatsby, #q-app, [data-reactroot], [ng-app], "
    "[ng-version], app-root"
)
_DESCRIBED_PRODUCT = '[itemtype*="schema.org/Product"]'
# Scripts that run (JSON-LD and other data blocks do not).
_CODE = 'script:not([type]), script[type=""], script[type*="javascript" i], script[type="module"]'


def needs_javascript(page: Document, *, describes_product: bool = False) -> bool:
    """Return True when the page looks like an app shell: a frame that scripts fill in.

    Only ever asked when no strategy found a price. A page with scripts (or a noscript note
    asking for JavaScript) is a shell when it has almost no visible text, or when the
    element an app mounts on is empty. A page whose structured data describes the product
    (``describes_product``, or microdata) is not a shell, however small: it is a product
    page without a price in it.
    """
    tree = page.tree
    if describes_product or tree.css_first(_DESCRIBED_PRODUCT) is not None:
        return False
    noscript = " ".join(n.text(strip=True) for n in tree.css("noscript")).lower()
    asks_for_javascript = "javascript" in noscript or "启用" in noscript
    if not asks_for_javascript and tree.css_first(_CODE) is None:
        return False  # nothing on the page could ever draw a price: no script, or only data
    if len(visible_text(tree)) < 400:
        return True
    mount = tree.css_first(_MOUNT_POINTS)
    return mount is not None and len(mount.text(strip=True)) < 40
