"""`tui-tts doctor`: check ffmpeg, the config, the engine, its key and its endpoint, and say what was found."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from tui_tts.audio.ffmpeg import find_ffmpeg
from tui_tts.config import Settings, data_dir_for, default_config_path, resolve_config_path
from tui_tts.engines.registry import load_settings
from tui_tts.errors import EXIT_CHUNKS_FAILED, EXIT_OK, UserError


class _Report:
    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.problems = 0

    def line(self, label: str, ok: bool, text: str) -> None:
        if not ok:
            self.problems += 1
        self.write(f"{'ok ' if ok else 'BAD'}  {label:<9} {text}")


async def run_doctor(args: argparse.Namespace, write: Callable[[str], None] = print) -> int:
    report = _Report(write)
    path, _required = resolve_config_path(args.config)
    settings = load_settings(args.config)  # a bad config is a one-line error (exit 2) like everywhere else
    where = f"read {path}" if path else f"no file at {default_config_path()}: built-in defaults"
    report.line("config", True, f"{where}; engine {settings.engine}")
    try:
        ffmpeg = find_ffmpeg(settings.output.ffmpeg)
        report.line("ffmpeg", True, f"{ffmpeg.path} (from {ffmpeg.source}, version {ffmpeg.version})")
    except UserError as exc:
        report.line("ffmpeg", False, exc.message)
    data_dir = data_dir_for(settings, args.data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".doctor-{os.getpid()}"
        probe.touch()
        probe.unlink()
        report.line("data dir", True, str(data_dir))
    except OSError as exc:
        report.line("data dir", False, f"{data_dir}: {exc.strerror}")
    await _check_engine(settings, report, getattr(args, "warm", False))
    write("all good" if report.problems == 0 else f"{report.problems} problem(s) found")
    return EXIT_OK if report.problems == 0 else EXIT_CHUNKS_FAILED


async def _check_engine(settings: Settings, report: _Report, warm: bool = False) -> None:
    """Build the engine, then run the checks its registry entry gives (a test phrase, the key, the endpoint); with
    `warm`, one tiny job too, to wake the workers and say how long it waited (a cold start) and ran."""
    from tui_tts.engines.base import EngineError
    from tui_tts.engines.health import warm_up
    from tui_tts.engines.registry import build_engine, engine_spec

    try:
        engine = build_engine(settings)
    except UserError as exc:
        report.line("engine", False, exc.message)
        return
    report.line("engine", True, engine.describe())
    try:
        async for check in engine_spec(settings.engine).checks(settings.engine_section(), engine):
            report.line(check.label, check.ok, check.text)
        if warm:
            report.line("warm", True, await warm_up(engine))
    except EngineError as exc:
        report.line("engine", False, str(exc))
    finally:
        await engine.aclose()
