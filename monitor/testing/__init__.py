"""Public doubles for testing price-monitor with real components, no mocks.

    shop.py       LoopbackShop: product pages on 127.0.0.1 whose prices you change
    receivers.py  JsonReceiver (Apprise json://), MailSink (SMTP), NotifySocket (systemd)
    process.py    DaemonProcess (the real `price-monitor run`), run_cli
    orders.py     order tables, a config file around them, an Order model

The demo, the test suite and the benchmarks use them.
"""

from __future__ import annotations

from monitor.testing.orders import (
    TEST_SHOPS,
    make_order,
    order_table,
    toml_value,
    write_config,
)
from monitor.testing.process import DaemonProcess, run_cli
from monitor.testing.receivers import JsonReceiver, MailSink, NotifySocket
from monitor.testing.shop import Answer, LoopbackShop, ShopProduct, product_page

__all__ = [
    "TEST_SHOPS",
    "Answer",
    "DaemonProcess",
    "JsonReceiver",
    "LoopbackShop",
    "MailSink",
    "NotifySocket",
    "ShopProduct",
    "make_order",
    "order_table",
    "product_page",
    "run_cli",
    "toml_value",
    "write_config",
]
