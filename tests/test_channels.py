"""The Apprise boundary: the console scheme, routing by tags, secrets kept out of sight."""

from __future__ import annotations

import asyncio

import pytest

from monitor.channels import Notifier
from monitor.config import NotifyTarget


def test_console_notifier_prints_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    notifier = Notifier([NotifyTarget(url="console://")])
    (recipient,) = notifier.recipients()
    result = asyncio.run(notifier.send(recipient, "Title", "Body line"))
    assert result.ok
    out = capsys.readouterr().out
    assert "Title" in out and "Body line" in out


def test_an_untagged_url_gets_every_alert_and_a_tagged_one_its_orders_only() -> None:
    family = NotifyTarget(url="console://", tags=("family",))
    everything = NotifyTarget(url="json://127.0.0.1:9/x")
    notifier = Notifier([family, everything])
    assert [r.tags for r in notifier.recipients(("family",))] == [("family",), ()]
    assert [r.tags for r in notifier.recipients(())] == [()]  # an untagged order's alert
    assert [r.tags for r in notifier.recipients(("work",))] == [()]
    assert len(notifier.recipients(everyone=True)) == 2
    only_tagged = Notifier([family])
    assert only_tagged.recipients(()) == []
    assert "every notification URL is tagged" in only_tagged.no_recipient_reason(())
    assert "no notification URL carries the tags work" in only_tagged.no_recipient_reason(("work",))
    assert "no notification URL configured" in Notifier([]).no_recipient_reason(())


def test_the_delivery_key_holds_no_secret_and_tells_lookalike_targets_apart() -> None:
    import hashlib

    one = NotifyTarget(url="tgram://123456789:AAESecretBotToken/987654321")
    other = NotifyTarget(url="tgram://123456789:AAEOtherBotToken1/987654321")
    keys = [r.key for r in Notifier([one, other]).recipients(everyone=True)]
    assert len(set(keys)) == 2
    for url in (one.url, other.url):
        assert hashlib.sha256(url.encode()).hexdigest()[:16] not in keys  # not the URL's hash
    assert keys == [r.key for r in Notifier([one, other]).recipients(everyone=True)]  # stable


def test_secrets_in_urls_are_masked_when_described() -> None:
    notifier = Notifier([NotifyTarget(url="tgram://123456789:AAESecretBotToken/987654321")])
    (shown,) = notifier.describe()
    assert "AAESecretBotToken" not in shown and shown.startswith("tgram://")
