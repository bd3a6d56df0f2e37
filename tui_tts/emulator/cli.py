"""`tui-tts emulate`: serve the emulator until Ctrl-C, then print what it counted."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

from tui_tts.emulator.config import config_from_arguments
from tui_tts.emulator.server import running_emulator
from tui_tts.errors import EXIT_OK, UserError


async def serve_emulator(args: argparse.Namespace) -> int:
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise UserError(f"--api-key-env {args.api_key_env}: that environment variable is not set")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    config = config_from_arguments(args, api_key)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    try:
        context = running_emulator(config, args.host, args.port)
        url, emulator = await context.__aenter__()
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    try:
        print(f"RunPod emulator: {config.workers} workers, {config.latency:g} s per job, {config.fault_summary}",
              file=sys.stderr)  # fmt: skip
        print("use it with:  [runpod]", file=sys.stderr)
        print(f'              endpoint_url = "{url}"', file=sys.stderr)
        if args.api_key_env:
            print(f"              api key: the value of ${args.api_key_env}", file=sys.stderr)
        print(url, flush=True)
        await stop.wait()
    finally:
        await context.__aexit__(None, None, None)
    print(json.dumps(emulator.stats(), sort_keys=True), file=sys.stderr)
    return EXIT_OK
