"""`tui-tts demo`: the dashboard on the bundled sample against the built-in RunPod emulator, faults included."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

from tui_tts.emulator import EmulatorConfig, running_emulator
from tui_tts.run.request import RunRequest
from tui_tts.samples import SAMPLE


async def run_demo(args: argparse.Namespace) -> int:
    """Serve an emulator with latency and a few faults in this process, and run the sample through it."""
    faults = EmulatorConfig(workers=8, latency=args.latency, audio="speech", fail_rate=0.08, http_error_rate=0.04,
                            reset_rate=0.02, bad_audio_rate=0.02, seed=args.seed)  # fmt: skip
    with contextlib.ExitStack() as cleanup:
        if args.data_dir:
            data_dir = Path(args.data_dir)
        else:  # the database and chunks of a demo are thrown away; only the audio stays, in one known place
            data_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="tui-tts-demo-")))
        output = Path(args.output) if args.output else Path(tempfile.gettempdir()) / "tui-tts-demo.mp3"
        return await _demo(args, faults, data_dir, output)


async def _demo(args: argparse.Namespace, faults: EmulatorConfig, data_dir: Path, output: Path) -> int:
    async with running_emulator(faults) as (url, _emulator):
        request = RunRequest(
            input=SAMPLE, output=output, data_dir=str(data_dir), fresh=True, yes=True,
            overrides={"engine": "runpod", "run": {"concurrency": 4, "max_chars": 120, "retry_base_delay": 0.5},
                       "runpod": {"endpoint_url": url, "poll_initial": 0.2, "cost_per_second": 0.00031}},
        )  # fmt: skip
        if not args.headless and sys.stdout.isatty() and sys.stdin.isatty():
            from tui_tts.ui.dashboard import run_dashboard

            code = await run_dashboard(request)
        else:
            from tui_tts.commands.headless import run_headless

            code = await run_headless(request)
    print(f"demo output: {output}", file=sys.stderr)
    return code
