"""Cost preview: what a paid run should cost is shown, and confirmed, before anything is paid for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_cli import tui_tts
from tests.test_remote_runs import emulator_process
from tui_tts.engines.registry import load_settings
from tui_tts.run.cost import estimate_cost

BOOK = "The rabbit ran on and on past the hedge. " * 100  # 4,100 characters


def test_estimates_for_each_engine() -> None:
    runpod = load_settings(None, {"engine": "runpod", "runpod": {"endpoint_id": "x", "cost_per_second": 0.001,
                                                                  "realtime_factor": 0.2}})  # fmt: skip
    estimate = estimate_cost(runpod, 16_000)
    assert estimate.audio_seconds == pytest.approx(1000.0)
    assert estimate.dollars == pytest.approx(1000.0 * 0.2 * 0.001)
    assert "about $0.20" in estimate.describe()
    openai = load_settings(None, {"engine": "openai", "openai": {"cost_per_million_characters": 15.0}})
    assert estimate_cost(openai, 100_000).dollars == pytest.approx(1.5)
    assert not estimate_cost(load_settings(None), 100_000).paid  # the local engine is free


@pytest.mark.slow
def test_a_paid_headless_run_needs_yes(tmp_path: Path) -> None:
    with emulator_process(tmp_path, "--latency", "0.01") as url:
        config = tmp_path / "c.toml"
        config.write_text(f'engine = "runpod"\n[runpod]\nendpoint_url = "{url}"\n'
                          "cost_per_second = 0.01\n")  # fmt: skip
        book = tmp_path / "book.txt"
        book.write_text(BOOK, encoding="utf-8")
        data = str(tmp_path / "d")
        refused = tui_tts("run", str(book), "-c", str(config), "--data-dir", data)
        assert refused.returncode == 2
        assert re.search(r"this run would cost money: 4,0\d\d characters, about 04:1\d of audio, about \$0\.2\d",
                         refused.stderr) and "--yes" in refused.stderr  # fmt: skip
        assert "submitted" not in (tmp_path / "emulator.log").read_text()
        listing = tui_tts("run", str(book), "-c", str(config), "--list-chapters")
        assert "about $0.26 with engine runpod" in listing.stdout
        started = tui_tts("run", str(book), "-c", str(config), "--data-dir", data, "--yes")
        assert started.returncode == 0, started.stderr
        assert "estimated: 4,0" in started.stderr
