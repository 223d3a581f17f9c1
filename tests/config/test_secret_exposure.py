"""The warning that a config others can read holds a notification secret: the secrets Apprise
masks, and those it leaves in a generic webhook (its path, its credential headers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config

WARNING = "readable by other users and holds notification tokens or passwords"


def warned(
    tmp_path: Path, url: str, *, mode: int = 0o644, env: dict[str, str] | None = None
) -> bool:
    path = tmp_path / "config.toml"
    path.write_text(f'[notify]\nurls = ["{url}"]\n', "utf-8")
    path.chmod(mode)
    return any(WARNING in w for w in load_config(path, env=env or {}).warnings)


@pytest.mark.parametrize(
    "url",
    [
        "json://hooks.example.com/notify?+Authorization=Bearer%20eyJhbGciOi",
        "jsons://hooks.example.com/notify?+X-Api-Key=k3y0123456",
        "form://hooks.example.com/api?-token=abc123",
        "xml://hooks.example.com/hook/8f3aC91e-77d2-4a1b",
        "json://hooks.example.com/api/webhook/Nx7Q2pZ",
        "xmls://${HOST}/hook/8f3aC91e",  # the host from the environment, the token not
    ],
)
def test_a_webhooks_header_or_path_secret_in_a_readable_config_gets_the_warning(
    tmp_path: Path, url: str
) -> None:
    assert warned(tmp_path, url, env={"HOST": "hooks.example.com"})
    assert not warned(tmp_path, url, mode=0o600, env={"HOST": "hooks.example.com"})


@pytest.mark.parametrize(
    "url",
    [
        "json://hooks.example.com/price-alerts",
        "json://hooks.example.com/notify?-format=plain&+Content-Type=application/json",
        "json://hooks.example.com/hook/${HOOK}?+Authorization=${AUTH}",
    ],
)
def test_a_webhook_without_a_secret_of_its_own_gets_none(tmp_path: Path, url: str) -> None:
    env = {"HOOK": "8f3aC91e", "AUTH": "Bearer abc"}
    assert not warned(tmp_path, url, env=env)
