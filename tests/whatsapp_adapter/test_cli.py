"""`python -m whatsapp_adapter register-webhook | show-webhook | channels | failures` against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from parley_testkit.servers import ROOT
from parley_testkit.wazzup_emulator import WazzupEmulator
from tests.support.whatsapp import WEBHOOK_SECRET, Adapter


def cli(adapter: Adapter, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "whatsapp_adapter", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **adapter.env, **env},
        cwd=adapter.workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_register_webhook_passes_wazzups_test_ping_and_show_webhook_reports_it(
    adapter: Adapter, emulator: WazzupEmulator
) -> None:
    emulator.webhooks_uri = None
    registered = cli(adapter, "register-webhook", WAZZUP_PUBLIC_URL=adapter.url)
    assert registered.returncode == 0, registered.stderr
    assert WEBHOOK_SECRET not in registered.stdout  # the secret is not printed
    assert emulator.webhooks_uri == adapter.webhook_url
    assert emulator.subscriptions["messagesAndStatuses"] is True
    shown = cli(adapter, "show-webhook")
    assert shown.returncode == 0, shown.stderr
    # Nor by show-webhook: the URL Wazzup holds, with the secret in it, is shown masked.
    assert WEBHOOK_SECRET not in shown.stdout + shown.stderr
    masked = adapter.webhook_url.replace(WEBHOOK_SECRET, "<WAZZUP_WEBHOOK_SECRET>")
    assert json.loads(shown.stdout)["webhooksUri"] == masked


def test_registering_a_url_that_does_not_answer_the_ping_fails_clearly(
    adapter: Adapter, emulator: WazzupEmulator
) -> None:
    before = emulator.webhooks_uri
    refused = cli(adapter, "register-webhook", "--url", f"{adapter.url}/wazzup/webhook/not-our-secret")
    assert refused.returncode == 1 and "testPostNotPassed" in refused.stderr
    assert emulator.webhooks_uri == before
    missing = cli(adapter, "register-webhook")
    assert missing.returncode == 1 and "WAZZUP_PUBLIC_URL" in missing.stderr


def test_channels_lists_each_channel_with_its_state(adapter: Adapter, emulator: WazzupEmulator) -> None:
    emulator.channels[1]["state"] = "qridle"
    listed = cli(adapter, "channels")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines == [f"{c['channelId']}  {c['transport']}  {c['state']}" for c in emulator.channels]
    assert lines[1].endswith("telegram  qridle")
    wrong_key = cli(adapter, "channels", WAZZUP_API_KEY="wrong")
    assert wrong_key.returncode == 1 and "401" in wrong_key.stderr


def test_failures_lists_refused_deliveries(adapter: Adapter) -> None:
    listed = cli(adapter, "failures")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
