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


def test_tags_pick_the_recipients() -> None:
    notifier = Notifier(
        [NotifyTarget(url="console://", tags=("family",)), NotifyTarget(url="json://127.0.0.1:9/x")]
    )
    assert [r.tags for r in notifier.recipients(("family",))] == [("family",)]
    assert len(notifier.recipients()) == 2  # an order without tags goes everywhere
    assert notifier.recipients(("work",)) == []
    assert "no notification URL carries the tags work" in notifier.no_recipient_reason(("work",))
    assert "no notification URL configured" in Notifier([]).no_recipient_reason(())


def test_secrets_in_urls_are_masked_when_described() -> None:
    notifier = Notifier([NotifyTarget(url="tgram://123456789:AAESecretBotToken/987654321")])
    (shown,) = notifier.describe()
    assert "AAESecretBotToken" not in shown and shown.startswith("tgram://")
