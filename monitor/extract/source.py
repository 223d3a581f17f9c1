"""What a check fetches for a product: decided here, and only here.

The shop's JSON API when its profile has one and the order names no selector of its own
(a selector is about the page); the product page otherwise. Both with the shop's headers,
cookies and proxy, and the domains a redirect may lead to. ``price-monitor check``, the
daemon and ``probe`` all ask this module.
"""

from __future__ import annotations

from monitor.extract.api_url import api_url
from monitor.extract.request import Request
from monitor.models import FetchMode, Shop, Source
from monitor.models.css import split_attribute


def source_for(shop: Shop, request: Request, fetch: FetchMode | None = None) -> Source:
    """Given a shop and what the order says, return what to fetch for the product, and how
    (``fetch``, the shop's when None). A page rendered in the browser is always the product
    page: it waits for the order's selector, and reads the JSON responses the shop's API
    spec matches (``responses``) instead of the page when it has them."""
    fetch = fetch or shop.fetch
    headers: dict[str, str] = dict(shop.headers)
    url = request.product_url
    if fetch is FetchMode.BROWSER:
        responses = shop.api.responses if shop.api is not None and not request.selector else None
        return Source(
            url,
            headers,
            shop.cookies_file,
            shop.proxy,
            domains=site_of(shop, url),
            fetch=fetch,
            wait_for=_css_of(request.selector or shop.selector),
            responses=responses,
        )
    if shop.api is not None and request.selector is None:
        found = api_url(shop.api, product_url=request.product_url, sku=request.sku)
        if found is not None:
            url = found
            headers.update(shop.api.headers)
    return Source(url, headers, shop.cookies_file, shop.proxy, domains=site_of(shop, url))


def _css_of(selector: str | None) -> str | None:
    """The CSS part of a selector (``span.price@data-value`` → ``span.price``)."""
    return split_attribute(selector)[0] if selector else None


def site_of(shop: Shop, url: str) -> tuple[str, ...]:
    """Return the domains a fetch of ``url`` for ``shop`` may be redirected within: the shop's
    domains and the URL's own host (a shop's API host, or a product page the user gave a shop
    for), or, for a shop without domains, the URL's site."""
    here = Source.site_domains(url)
    if not shop.domains:
        return here
    own = here[:1]  # the host alone, not its parent
    return tuple(dict.fromkeys((*shop.domains, *own)))
