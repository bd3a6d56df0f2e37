"""Faults from the campaign of issue 12, each against the project's emulator: echoed keys, outages, resumes, stalls."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from tests.test_remote_runs import STORY, free_port, run_cli, start_server, wait_for_port


@pytest.mark.slow
def test_a_key_echoed_by_the_server_is_redacted_everywhere(tmp_path: Path) -> None:
    secret = "rpa_ECHOED_" + "k3y" * 10
    port = free_port()
    env = {"RUNPOD_API_KEY": secret, "EMULATOR_KEY": secret}
    log = tmp_path / "emulator.log"
    emulator = start_server([sys.executable, "-m", "tui_tts", "emulate", "--port", str(port), "--latency", "0.02",
                             "--api-key-env", "EMULATOR_KEY", "--http-error-rate", "0.7", "--echo-errors",
                             "--seed", "3"], log, env)  # fmt: skip
    try:
        wait_for_port(port, emulator, log)
        config = tmp_path / "c.toml"
        config.write_text(f'engine = "runpod"\n[run]\nmax_attempts = 2\nretry_base_delay = 0.01\nmax_chars = 200\n'
                          f'[runpod]\nendpoint_url = "http://127.0.0.1:{port}/v2/emulator"\npoll_initial = 0.02\n'
                          f'poll_max = 0.05\n')  # fmt: skip
        source = tmp_path / "story.txt"
        source.write_text(STORY[:1500], encoding="utf-8")
        data = tmp_path / "data"
        run = run_cli("run", str(source), "-c", str(config), "--data-dir", str(data), env=env)
        show = run_cli("show", "last", "--json", "--data-dir", str(data), env=env)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    assert "HTTP 500" in run.stderr  # the echoing errors happened and were reported ...
    assert "[redacted]" in run.stderr + show.stdout  # ... with the key cut out
    report = json.loads(show.stdout)
    assert report["failures"], "some chunk should have failed for good with the echoed body as its error"
    everything = run.stdout + run.stderr + show.stdout + show.stderr
    for path in data.rglob("*"):
        if path.is_file():
            everything += path.read_bytes().decode("latin-1")
    forms = (secret, base64.b64encode(secret.encode()).decode(), base64.b64encode(f"Bearer {secret}".encode()).decode())
    for needle in (*forms, secret[:16], secret[-16:]):
        assert needle not in everything, needle


def test_redaction_finds_the_key_in_base64_at_any_alignment() -> None:
    from tui_tts.engines.base import RetryableError
    from tui_tts.engines.redaction import register_secret

    secret = "sk-alignment-" + "x9" * 12
    register_secret(secret)
    for prefix in ("", "a", "ab", "Authorization: Bearer "):
        encoded = base64.b64encode(f"{prefix}{secret} and more".encode()).decode()
        message = str(RetryableError(f"HTTP 500 {encoded}"))
        assert secret not in message and "[redacted]" in message, prefix
