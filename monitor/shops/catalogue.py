"""Built-in shop profiles, as data.

Policies change; every value here was written from the shops' public help pages and is
marked ``policy_uncertain`` unless it is stable and documented. A user's ``[shops.NAME]``
section overrides any field.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.shops.base import ApiSpec, ScriptJson, Shop

BUILTIN_SHOPS: tuple[Shop, ...] = (
    Shop(
        key="xiaomi",
        name="小米商城",
        domains=("mi.com", "xiaomi.com"),
        currency="CNY",
        language="zh",
        timezone="Asia/Shanghai",
        window_days=7,
        window_starts="delivery",
        min_interval=timedelta(hours=1),
        claim=(
            "小米商城 App 或官网「我的订单」中申请价保；分期订单请联系官方在线客服，"
            "或拨打 400-100-5678"
        ),
        refund_path="差价按原支付路径退回；分期订单可能退至付款账户而非分期机构",
        exclusions=("秒杀", "定制", "赠品", "以旧换新"),
        # The product page is a JavaScript app; its product API lists every variant
        # ("goods") with its own id and price, and the order's sku is that goods id.
        api=ApiSpec(
            url="https://api2.order.mi.com/product/view?product_id={product_id}&version=2",
            ids={"product_id": r"product_id=(\d+)"},
            items="data.goods_info",
            item_id="goods_id",
            match="{sku}",
            price="price",
            headers={"Referer": "https://www.mi.com/"},
        ),
        policy_url="https://www.mi.com/service/",
    ),
    Shop(
        key="jd",
        name="京东",
        domains=("jd.com", "3.cn"),
        currency="CNY",
        language="zh",
        timezone="Asia/Shanghai",
        window_days=7,
        window_starts="delivery",
        min_interval=timedelta(hours=1),
        claim="京东 App「我的 → 客户服务 → 价格保护」一键申请价保，或联系京东在线客服",
        refund_path="差价退回原支付方式（京豆、余额、银行卡等）",
        exclusions=("第三方卖家（以商品页「N天价保」标签为准）", "秒杀", "拼购", "定金预售"),
        # Item pages load their price with JavaScript from this price API: "p" is the price,
        # "m" the market (list) price. The sku is the number in item.jd.com/<sku>.html.
        api=ApiSpec(
            url="https://p.3.cn/prices/mgets?skuIds=J_{sku}",
            ids={"sku": r"item\.jd\.com/(\d+)\.html"},
            items="",
            item_id="id",
            match="J_{sku}",
            price="p",
            headers={"Referer": "https://item.jd.com/"},
        ),
        # A page saved after rendering has the price filled into this span.
        selector=".summary-price .p-price .price, .J-summary-price .p-price .price",
        window_label=r"(\d+)\s*天价保",
        policy_url="https://help.jd.com/",
    ),
    Shop(
        key="vmall",
        name="华为商城",
        domains=("vmall.com", "huawei.com"),
        currency="CNY",
        language="zh",
        timezone="Asia/Shanghai",
        window_days=7,
        window_starts="delivery",
        min_interval=timedelta(hours=1),
        claim="华为商城 App「我的订单」中申请价保，或联系华为商城在线客服",
        refund_path="差价按原支付路径退回",
        exclusions=("秒杀", "定制", "赠品"),
        # The selected variant's price; the original price beside it is in a <del>.
        selector="#pro-price, .pro-price-area .pro-price",
        policy_url="https://www.vmall.com/help/",
    ),
    Shop(
        key="apple",
        name="Apple Store",
        domains=("apple.com",),
        currency="USD",
        language="en",
        timezone="America/Los_Angeles",
        window_days=14,
        window_starts="delivery",
        min_interval=timedelta(hours=2),
        claim="Contact Apple Store support (chat from your order page or 1-800-MY-APPLE)",
        refund_path="The difference is refunded to the original payment method",
        exclusions=("Apple Certified Refurbished", "special deals"),
        policy_url="https://www.apple.com/shop/help/sales_refunds",
    ),
    Shop(
        key="bestbuy",
        name="Best Buy",
        domains=("bestbuy.com",),
        currency="USD",
        language="en",
        timezone="America/Chicago",
        window_days=15,
        window_starts="delivery",
        min_interval=timedelta(hours=1),
        claim="Chat with Best Buy customer service, call 1-888-BESTBUY, or visit a store",
        refund_path="The difference is refunded to the original payment method",
        exclusions=("open-box", "marketplace sellers", "limited-quantity deals"),
        # Product pages carry a JSON-LD Product whose offers hold the price; open-box offers
        # are marked used or refurbished and are left out.
        policy_url="https://www.bestbuy.com/site/help-topics/price-match-guarantee/",
    ),
    Shop(
        key="target",
        name="Target",
        domains=("target.com",),
        currency="USD",
        language="en",
        timezone="America/Chicago",
        window_days=14,
        window_starts="order",
        min_interval=timedelta(hours=1),
        claim="Ask for a price adjustment in the Target app (Help → Contact us) or at Guest Services",
        refund_path="The difference is refunded to the original payment method",
        exclusions=("clearance", "Target Plus partners", "lightning deals"),
        selector='[data-test="product-price"]',
        policy_url="https://help.target.com/help/subcategoryarticle?childcat=Price+Match+Guarantee",
    ),
    Shop(
        key="walmart",
        name="Walmart",
        domains=("walmart.com",),
        currency="USD",
        language="en",
        timezone="America/Chicago",
        window_days=None,
        window_starts="order",
        min_interval=timedelta(hours=1),
        claim="Contact Walmart customer care from your order page",
        refund_path="The difference is refunded to the original payment method",
        exclusions=("marketplace sellers",),
        script_json=(
            ScriptJson(
                selector="script#__NEXT_DATA__",
                path="props.pageProps.initialData.data.product.priceInfo.currentPrice.price",
                currency_path="props.pageProps.initialData.data.product.priceInfo.currentPrice.currencyUnit",
            ),
        ),
        policy_url="https://www.walmart.com/help",
    ),
    Shop(
        key="costco",
        name="Costco",
        domains=("costco.com",),
        currency="USD",
        language="en",
        timezone="America/Los_Angeles",
        window_days=30,
        window_starts="order",
        min_interval=timedelta(hours=2),
        claim="Submit a price adjustment request at costco.com (Customer Service) or a warehouse",
        refund_path="The difference is refunded to the original payment method",
        exclusions=("Instant Savings that started before your purchase",),
        # "Your Price" after instant savings; the online price and the saving are separate rows.
        selector='[automation-id="productPriceOutput"]',
        policy_url="https://customerservice.costco.com/",
    ),
    Shop(
        key="amazon",
        name="Amazon",
        domains=("amazon.com",),
        currency="USD",
        language="en",
        timezone="America/Los_Angeles",
        window_days=None,
        window_starts="delivery",
        min_interval=timedelta(hours=2),
        claim="Contact Amazon customer service from Your Orders (Problem with order)",
        refund_path="Any difference is refunded to the original payment method",
        exclusions=("third-party sellers",),
        # The buy box's price to pay; ".a-text-price" is the struck-through list price.
        selector=(
            "#corePrice_feature_div .a-price:not(.a-text-price) .a-offscreen, "
            "#corePriceDisplay_desktop_feature_div .priceToPay .a-offscreen, "
            "#apex_desktop .priceToPay .a-offscreen, #priceblock_ourprice, #priceblock_dealprice"
        ),
        policy_url="https://www.amazon.com/gp/help/customer/contact-us",
    ),
    Shop(
        key="generic",
        name="generic shop",
        language="en",
        timezone="UTC",
        window_days=None,
        min_interval=timedelta(minutes=15),
        claim="Contact the shop's customer service with your order number",
        refund_path="Ask for the difference back on the original payment method",
    ),
)
