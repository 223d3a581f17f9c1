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


SECRET_HOOK = "json://127.0.0.1:9/hook/8f3aC91eSecret?+Authorization=Bearer%20tok3n&-x=1"


def test_a_webhooks_path_token_and_credential_headers_are_masked_when_described() -> None:
    notifier = Notifier([NotifyTarget(url=SECRET_HOOK)])
    assert notifier.describe() == ["json://127.0.0.1:9/hook/8...t"]
    (recipient,) = notifier.recipients()
    assert recipient.name == "json://127.0.0.1:9/hook/8...t"
    error = notifier.redact("posting to /hook/8f3aC91eSecret with Bearer tok3n failed")
    assert error == "posting to /hook/8...t with B...n failed"


def test_private_url_masks_what_apprise_leaves_in_a_webhook_and_nothing_else() -> None:
    from monitor.redact import private_url, url_secrets

    assert private_url(SECRET_HOOK) == (
        "json://127.0.0.1:9/hook/8...t?+Authorization=B...n&-x=1"  # -x is no credential
    )
    assert private_url("jsons://me:pw@host/v2/alerts/Kx9?+X-Api-Key=abc123", query=False) == (
        "jsons://me:****@host/v2/alerts/K...9"  # words and an API version are shown
    )
    assert private_url("form://A1b2C3d4@host/") == "form://A...4@host/"  # a token as the user
    assert private_url("xmls://host/hook/${HOOK}?+Authorization=${AUTH}") == (
        "xmls://host/hook/${HOOK}?+Authorization=${AUTH}"  # references hold no secret
    )
    for plain in ("json://127.0.0.1:9/alerts", "ntfys://host/MyTopic9", "tgram://1...n/98765/"):
        assert private_url(plain) == plain  # no secret there, or Apprise masks the service's
    assert private_url(private_url(SECRET_HOOK)) == private_url(SECRET_HOOK)
    assert url_secrets("json://u:p%40ss@host/hook/T%2Bk1") == {"p%40ss", "p@ss", "T%2Bk1", "T+k1"}


def test_the_delivery_key_of_a_target_without_a_secret_apprise_misses_is_unchanged() -> None:
    # The key was made from Apprise's privacy URL: it must stay the same across the upgrade,
    # or a retry would send an alert again to the targets that already had it.
    import hashlib

    import apprise

    for url in ("tgram://123456789:AAESecretBotToken/987654321", "json://127.0.0.1:9/alerts"):
        one = apprise.Apprise()
        assert one.add(url)
        before = hashlib.sha256(f"{one.urls(privacy=True)[0]}#1".encode()).hexdigest()[:16]
        (recipient,) = Notifier([NotifyTarget(url=url)]).recipients()
        assert recipient.key == before


def test_a_failed_sends_error_names_the_target_masked_and_apprises_log_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from monitor.testing import JsonReceiver

    receiver = JsonReceiver()
    try:
        receiver.fail_with = 500
        url = f"json://127.0.0.1:{receiver.port}/hook/8f3aC91eSecret"
        notifier = Notifier([NotifyTarget(url=url)])
        (recipient,) = notifier.recipients()
        with caplog.at_level(logging.DEBUG, logger="apprise"):
            result = asyncio.run(notifier.send(recipient, "Title", "Body"))
    finally:
        receiver.close()
    assert not result.ok and result.error.startswith("failure: Failed to send JSON POST")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"http://127.0.0.1:{receiver.port}/hook/8...t" in logged  # Apprise's debug line
    assert "8f3aC91eSecret" not in logged + result.error
