"""Generated product pages of realistic size and structure, for the benchmarks.

About 150 KB each, shaped like a real shop's product page: a head with meta tags and
styles, large inline scripts (analytics, state), navigation with a few hundred links,
breadcrumbs, the product with a JSON-LD block and a microdata price, a spec table, reviews,
a related-products carousel with prices of its own, and a footer. Deterministic for a seed.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal

WORDS = [
    "phone",
    "camera",
    "battery",
    "display",
    "lens",
    "charger",
    "wireless",
    "fast",
    "premium",
    "ultra",
    "pro",
    "max",
    "mini",
    "sensor",
    "zoom",
    "night",
    "mode",
    "processor",
    "memory",
    "storage",
    "gaming",
    "audio",
    "speaker",
    "dual",
    "stereo",
    "design",
    "aluminium",
    "glass",
    "frame",
    "colour",
    "black",
    "white",
    "blue",
    "green",
    "silver",
    "gold",
    "titanium",
]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def product_page(
    index: int,
    price: Decimal,
    *,
    currency: str = "CNY",
    size: int = 150_000,
    seed: int = 0,
) -> str:
    """Return product page number ``index`` at ``price``, padded to about ``size`` bytes."""
    rng = random.Random(seed * 1_000_003 + index)
    title = f"Product {index} " + " ".join(rng.choice(WORDS) for _ in range(4))
    sku = f"SKU-{index:06d}"
    ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "sku": sku,
        "brand": {"@type": "Brand", "name": "Benchmark"},
        "offers": {
            "@type": "Offer",
            "price": f"{price:.2f}",
            "priceCurrency": currency,
            "availability": "https://schema.org/InStock",
        },
    }
    nav = "".join(
        f'<li class="nav-item"><a href="/category/{i}/{rng.choice(WORDS)}">{rng.choice(WORDS).title()}</a></li>'
        for i in range(250)
    )
    state = json.dumps(
        {
            "user": None,
            "cart": [],
            "flags": {w: rng.random() < 0.5 for w in WORDS},
            "recs": [{"id": rng.randrange(10**6), "score": rng.random()} for _ in range(120)],
        }
    )
    analytics = "".join(
        f"window.dataLayer.push({{event:'view_{i}',value:{rng.randrange(10**5)},label:'{rng.choice(WORDS)}'}});"
        for i in range(150)
    )
    specs = "".join(
        f"<tr><th>{rng.choice(WORDS).title()}</th><td>{_sentence(rng, 6)}</td></tr>"
        for _ in range(60)
    )
    reviews = "".join(
        f'<article class="review"><h4>{_sentence(rng, 4)}</h4><p>{_sentence(rng, 40)}</p>'
        f'<span class="stars">{rng.randint(1, 5)}/5</span></article>'
        for _ in range(40)
    )
    related = "".join(
        f'<li class="card" itemscope itemtype="https://schema.org/Product">'
        f'<a href="/p/{rng.randrange(10**6)}" itemprop="name">{rng.choice(WORDS).title()} accessory</a>'
        f'<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        f'<meta itemprop="priceCurrency" content="{currency}">'
        f'<span itemprop="price" content="{rng.randint(9, 999)}.00">{rng.randint(9, 999)}.00</span></div></li>'
        for _ in range(24)
    )
    body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{title}</title>
<meta name="description" content="{_sentence(rng, 20)}">
<meta property="og:title" content="{title}">
<style>{"".join(f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i:06x}}}" for i in range(300))}</style>
<script>window.__STATE__ = {state};</script>
<script>window.dataLayer = window.dataLayer || []; {analytics}</script>
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head><body>
<header><nav><ul class="menu">{nav}</ul></nav></header>
<ol class="breadcrumbs"><li><a href="/">Home</a></li><li><a href="/phones">Phones</a></li><li>{title}</li></ol>
<main itemscope itemtype="https://schema.org/Product">
<h1 itemprop="name">{title}</h1>
<div class="buy-box" itemprop="offers" itemscope itemtype="https://schema.org/Offer">
<meta itemprop="priceCurrency" content="{currency}">
<span class="price" itemprop="price" content="{price:.2f}">{price:.2f}</span>
<del class="list-price">{price * 2:.2f}</del>
<p class="promo">Free shipping on orders over 99. 12 interest-free instalments available.</p>
</div>
<section class="specs"><table>{specs}</table></section>
<section class="reviews">{reviews}</section>
<section class="related"><h2>Customers also bought</h2><ul>{related}</ul></section>
</main>
<footer>{"".join(f"<p>{_sentence(rng, 12)}</p>" for _ in range(30))}</footer>
"""
    padding = []
    total = len(body.encode())
    while total < size - 200:
        chunk = f'<div class="c{rng.randrange(300)}"><p>{_sentence(rng, 25)}</p></div>\n'
        padding.append(chunk)
        total += len(chunk.encode())
    return body.replace("<footer>", "".join(padding) + "<footer>") + "</body></html>\n"
