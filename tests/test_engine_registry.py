"""An engine is one module plus one registry entry: a throwaway engine defined here reaches every part reading it."""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import Field

from tui_tts.audio.probe import inspect_audio
from tui_tts.audio.wav import pcm_to_wav
from tui_tts.commands.cli import build_parser, main
from tui_tts.commands.doctor import run_doctor
from tui_tts.config import SAME_AUDIO, EngineSettings
from tui_tts.engines import registry
from tui_tts.engines.base import Check, Engine, EngineSpec, JobListener
from tui_tts.engines.registry import build_engine, engine_names, load_settings
from tui_tts.errors import ConfigError
from tui_tts.models import Chunk, SynthesizedAudio
from tui_tts.run.cost import estimate_cost
from tui_tts.run.runner import audio_settings, run_identity


class ToneSettings(EngineSettings):
    """A throwaway engine: a tone per chunk, its length set by the text."""

    pitch: Annotated[int, Field(ge=100, le=2000)] = 440
    price_per_character: Annotated[float, Field(ge=0), SAME_AUDIO] = 0.0
    timeout: Annotated[float, Field(gt=0), SAME_AUDIO] = 5.0


class ToneEngine(Engine):
    name = "tone"

    def __init__(self, settings: ToneSettings) -> None:
        self.settings = settings
        self.made = 0

    def describe(self) -> str:
        return f"tone at {self.settings.pitch} Hz"

    async def synthesize(
        self, chunk: Chunk, listener: JobListener, resume_job_id: str | None = None
    ) -> SynthesizedAudio:
        self.made += 1
        half = 8000 // self.settings.pitch  # samples in half a period, at 16 kHz
        period = (b"\x00\x10" * half + b"\x00\xf0" * half) * (self.settings.pitch // 50)  # 1/50 s
        pcm = period * max(1, len(chunk.text) // 2)  # 1/100 s of tone a character
        data, facts = inspect_audio(pcm_to_wav(pcm, 16000))
        return SynthesizedAudio(data, facts)

    def counters(self) -> dict[str, object]:
        return {"tones": self.made}


async def _tone_checks(settings: ToneSettings, engine: Engine) -> AsyncIterator[Check]:
    yield Check("pitch", settings.pitch < 1000, f"{settings.pitch} Hz")


TONE = EngineSpec(
    "tone", ToneSettings, lambda settings, concurrency: ToneEngine(settings),
    cost=lambda settings, characters, seconds: characters * settings.price_per_character, checks=_tone_checks,
)  # fmt: skip


@pytest.fixture
def tone() -> Iterator[None]:
    """The one registry entry, for this test only."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.ENGINES, "tone", TONE)
        yield


def test_config_validates_the_new_section_and_names_it_in_errors(tone: None) -> None:
    settings = load_settings(None, {"engine": "tone", "tone": {"pitch": 880}})
    assert settings.engine_section() == ToneSettings(pitch=880)
    assert load_settings(None, {"tone": {}}).engine_section("tone") == ToneSettings()
    with pytest.raises(ConfigError, match=r"key 'tone.pitch': Input should be less than or equal to 2000"):
        load_settings(None, {"tone": {"pitch": 5000}})
    with pytest.raises(ConfigError, match=r"unknown key 'tone.volume'; allowed here: pitch, price_per_character"):
        load_settings(None, {"tone": {"volume": 1}})
    with pytest.raises(ConfigError, match=r"Input should be 'local', 'runpod', 'openai' or 'tone'"):
        load_settings(None, {"engine": "polly"})


def test_the_command_line_offers_it(tone: None) -> None:
    assert engine_names() == ("local", "runpod", "openai", "tone")
    assert build_parser().parse_args(["run", "book.txt", "--engine", "tone"]).engine == "tone"


def test_unregistered_it_is_unknown_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "book.txt", "--engine", "tone"])
    assert "invalid choice: 'tone'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="unknown key 'tone'"):
        load_settings(None, {"tone": {}})


def test_identity_holds_only_what_changes_the_audio(tone: None) -> None:
    base = load_settings(None, {"engine": "tone"})
    assert audio_settings(base) == {"engine": "tone", "max_chars": 400, "tone": {"pitch": 440}}
    same = load_settings(None, {"engine": "tone", "tone": {"timeout": 9.0, "price_per_character": 1.0}})
    other = load_settings(None, {"engine": "tone", "tone": {"pitch": 441}})
    assert run_identity(b"x", same) == run_identity(b"x", base)
    assert run_identity(b"x", other) != run_identity(b"x", base)


def test_cost_comes_from_its_entry(tone: None) -> None:
    assert not estimate_cost(load_settings(None, {"engine": "tone"}), 1000).paid
    paid = estimate_cost(load_settings(None, {"engine": "tone", "tone": {"price_per_character": 0.01}}), 1000)
    assert paid.dollars == pytest.approx(10.0)


async def test_doctor_runs_its_checks(tone: None, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('engine = "tone"\n[tone]\npitch = 1500\n', encoding="utf-8")
    lines: list[str] = []
    code = await run_doctor(argparse.Namespace(config=str(config), data_dir=str(tmp_path / "d")), lines.append)
    assert "ok   engine    tone at 1500 Hz" in lines
    assert "BAD  pitch     1500 Hz" in lines
    assert code != 0 and lines[-1] == "1 problem(s) found"


def test_a_whole_run_with_it(tone: None, tmp_path: Path) -> None:
    """Built by its factory, driven by the runner, its counters stored, the file joined, and resume finds it."""
    text = tmp_path / "book.txt"
    text.write_text("One sentence here. " * 40, encoding="utf-8")
    data = tmp_path / "data"
    args = ["run", str(text), "--engine", "tone", "--headless", "--data-dir", str(data), "-o", str(tmp_path / "o.wav")]
    assert main(args) == 0
    assert (tmp_path / "o.wav").stat().st_size > 1000
    with sqlite3.connect(data / "tui-tts.db") as db:
        engine, stats = db.execute("SELECT engine, stats_json FROM runs").fetchone()
    assert engine == "tone" and json.loads(stats)["tones"] > 0
    assert main([*args, "--concurrency", "2"]) == 0  # the same run, resumed: nothing made again
    with sqlite3.connect(data / "tui-tts.db") as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
        assert json.loads(db.execute("SELECT stats_json FROM runs").fetchone()[0])["tones"] == 0


async def test_its_factory_builds_it(tone: None) -> None:
    engine = build_engine(load_settings(None, {"engine": "tone"}))
    assert isinstance(engine, ToneEngine)
    assert await engine.cancel_in_flight() == 0 and engine.waiting_summary() is None  # the contract's defaults
    await engine.aclose()
