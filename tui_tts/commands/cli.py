"""The command line: `tui-tts run INPUT` and friends. Every error a user can fix is one line and an exit code."""

from __future__ import annotations

import argparse
import asyncio
import sys
import typing
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_tts import __version__
from tui_tts.audio.formats import FORMAT_NAMES, known_extensions
from tui_tts.engines.registry import engine_names
from tui_tts.errors import EXIT_INTERRUPTED, EXIT_USAGE, UserError
from tui_tts.store import StoreError

if TYPE_CHECKING:
    from tui_tts.run.request import RunRequest


def _whole_number(text: str, minimum: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        least = "0 or more" if minimum == 0 else f"at least {minimum}"
        raise argparse.ArgumentTypeError(f"must be {least}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _concurrency(text: str) -> int:
    value = _whole_number(text, 1)
    if value > 256:  # run.concurrency's bound, said as the flag's
        raise argparse.ArgumentTypeError(f"must be at most 256, got {value}")
    return value


def _chunk_size(text: str) -> int:
    value = _whole_number(text, 1)
    if not 50 <= value <= 20_000:  # run.max_chars's bounds, said as the flag's
        raise argparse.ArgumentTypeError(f"must be between 50 and 20000, got {value}")
    return value


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount such as 12.50, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error, pointing at --help."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"tui-tts: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tui-tts", description="Turn long text into one finished audio file with text-to-speech.")
    parser.add_argument("-V", "--version", action="version", version=f"tui-tts {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    run = commands.add_parser("run", help="turn a text file into one audio file (resumes an unfinished run)")
    run.add_argument("input", help="a .txt, .md, .epub or .pdf file")
    run.add_argument("-o", "--output", help="output file; its extension picks the format: "
                     f"{known_extensions()} (default: next to the input)")  # fmt: skip
    add_common(run)
    run.add_argument("--engine", choices=engine_names(), help="which text-to-speech backend to use")
    run.add_argument("--voice", metavar="NAME", help="the voice, for any engine ('tui-tts voices' lists them)")
    run.add_argument("--lexicon", metavar="FILE", help="pronunciation lexicon, TOML or TSV (default: lexicon.path)")
    run.add_argument("--concurrency", type=_concurrency, metavar="N", help="how many chunks at once")
    run.add_argument("--sequential", action="store_true", help="one chunk at a time")
    run.add_argument("--max-chars", type=_chunk_size, metavar="N", help="longest chunk, in characters (50-20000)")
    run.add_argument("--format", choices=FORMAT_NAMES, help="output format (default: from -o's extension, else config)")
    run.add_argument("--headless", action="store_true", help="plain progress output, no dashboard")
    run.add_argument("--fresh", action="store_true", help="start over instead of resuming an unfinished run")
    run.add_argument("--yes", action="store_true", help="start a paid run without asking (headless needs it)")
    run.add_argument("--budget", type=_amount, metavar="AMOUNT",
                     help="spend cap: no job is sent once spend plus the jobs in flight would pass it")  # fmt: skip
    run.add_argument("--list-chapters", action="store_true", help="list the chapters with their size, and stop")
    run.add_argument("--chapters", metavar="SPEC", help="only these chapters, e.g. 3-7 or 1,4,9-10")
    run.add_argument("--include-front-matter", action="store_true",
                     help="EPUB: also read the front matter, contents page and notes (skipped by default)")  # fmt: skip
    run.add_argument("--no-chapters", action="store_true", help="plain text and PDF: no chapter detection")
    run.add_argument("--strict-text", action="store_true",
                     help="refuse a book that loses more than 2%% of its text for no known reason")  # fmt: skip
    add_assembly(run)
    run.set_defaults(handler=_run_command)

    names = commands.add_parser("names", help="list likely proper nouns and odd words, to start a lexicon")
    names.add_argument("input", help="a .txt, .md or .epub file")
    names.add_argument("--min-count", type=_positive_int, default=1, metavar="N", help="only words seen N times")
    names.add_argument("--tsv", action="store_true", help="print a lexicon file to edit instead of a table")
    names.add_argument("--include-front-matter", action="store_true", help="EPUB: also read the front matter")
    names.set_defaults(handler=_words("names_command"))
    voices = commands.add_parser("voices", help="list the voices of an engine")
    add_common(voices)
    voices.add_argument("--engine", choices=["local", "runpod", "openai"], help="which engine (default: config)")
    voices.set_defaults(handler=_words("voices_command"))

    doctor = commands.add_parser("doctor", help="check ffmpeg, the config, the engine, its key and endpoint")
    add_common(doctor)
    doctor.add_argument("--warm", action="store_true",
                        help="submit one tiny job: wake the workers, report its delay and cost")  # fmt: skip
    doctor.set_defaults(handler=_doctor_command)

    emulate = commands.add_parser("emulate", help="serve a RunPod-compatible endpoint on 127.0.0.1 (tests, demos)")
    from tui_tts.emulator.config import add_emulator_arguments

    add_emulator_arguments(emulate)
    emulate.set_defaults(handler=_emulate_command)

    demo = commands.add_parser("demo", help="watch the dashboard on a sample against a built-in RunPod emulator")
    demo.add_argument("-o", "--output", help="where to write the demo's audio (default: in a temp dir)")
    demo.add_argument("--data-dir", metavar="DIR", help="where the demo's database and chunks go (default: temp)")
    demo.add_argument("--latency", type=float, default=1.5, help="seconds each emulated job takes (default 1.5)")
    demo.add_argument("--seed", type=int, help="seed for the injected faults")
    demo.add_argument("--headless", action="store_true", help="plain progress output, no dashboard")
    demo.set_defaults(handler=_demo_command)

    runs = commands.add_parser("runs", help="list runs (id, state, done/total, input, output)")
    add_common(runs)
    runs.add_argument("--json", action="store_true", help="machine-readable output")
    runs.set_defaults(handler=_manage("runs_command"))
    show = commands.add_parser("show", help="one run's stats, failures with reasons, spend and timings")
    show.add_argument("run", help="run id, a unique prefix of it, or 'last'")
    add_common(show)
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=_manage("show_command"))
    for name, help_text in (("resume", "continue a run where it stopped"), ("retry", "retry a run's failed chunks")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("run", help="run id, a unique prefix of it, or 'last'")
        command.add_argument("-o", "--output", help="output file (default: the run's)")
        add_common(command)
        command.add_argument("--concurrency", type=_concurrency, metavar="N", help="how many chunks at once")
        command.add_argument("--sequential", action="store_true", help="one chunk at a time")
        command.add_argument("--yes", action="store_true", help="start a paid run without asking")
        command.add_argument("--budget", type=_amount, metavar="AMOUNT", help="spend cap for the run (see run --help)")
        command.add_argument("--headless", action="store_true", help="plain progress output, no dashboard")
        command.set_defaults(handler=_resume_command, only_failed=name == "retry")
    redo = commands.add_parser("redo", help="make one chunk of a run again (a new take, or with --text, an edit)")
    redo.add_argument("run", help="run id, a unique prefix of it, or 'last'")
    redo.add_argument("chunk", type=_positive_int, help="the chunk's number (as 'show' and the dashboard count)")
    redo.add_argument("--text", help="read this instead of the chunk's text (kept for later runs of this input)")
    redo.add_argument("-o", "--output", help="output file (default: the run's)")
    add_common(redo)
    redo.add_argument("--yes", action="store_true", help="start a paid run without asking")
    redo.add_argument("--headless", action="store_true", help="plain progress output, no dashboard")
    redo.set_defaults(handler=_redo_command)
    stitch = commands.add_parser("stitch", help="join a finished run's chunks into a file (again)")
    stitch.add_argument("run", help="run id, a unique prefix of it, or 'last'")
    stitch.add_argument("-o", "--output", help=f"output file; its extension picks the format: {known_extensions()}")
    add_common(stitch)
    add_assembly(stitch)
    stitch.add_argument("--allow-gaps", action="store_true",
                        help="leave out chunks that failed for good, and list the text missing")  # fmt: skip
    stitch.set_defaults(handler=_manage("stitch_command"))
    prune = commands.add_parser("prune", help="delete finished or stopped runs' chunk audio, and say how much it freed")
    prune.add_argument("--older-than", type=_days, metavar="DAYS", help="runs made at least DAYS days ago")
    prune.add_argument("--keep", type=_whole, metavar="K", help="all but the newest K runs")
    prune.add_argument("-y", "--yes", action="store_true", help="do not ask")
    add_common(prune)
    prune.set_defaults(handler=_prune_command)
    remove = commands.add_parser("rm", help="delete a run and its chunk audio (asks first)")
    remove.add_argument("run", help="run id, a unique prefix of it, or 'last'")
    remove.add_argument("-y", "--yes", action="store_true", help="do not ask")
    add_common(remove)
    remove.set_defaults(handler=_manage("rm_command"))
    return parser


def _manage(name: str, **extra: Any) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from tui_tts.commands import manage

        command = getattr(manage, name)
        return _run_async(lambda: command(args, **extra))

    return handler


def _words(name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from tui_tts.commands import words

        return _run_async(lambda: getattr(words, name)(args))

    return handler


def add_common(command: argparse.ArgumentParser) -> None:
    command.add_argument("-c", "--config", metavar="FILE", help="config file (default: $TUI_TTS_CONFIG or the user "
                         "config dir)")  # fmt: skip
    command.add_argument("--data-dir", metavar="DIR", help="where the database and chunk audio live "
                         "(default: $TUI_TTS_DATA_DIR or the user data dir)")  # fmt: skip


def add_assembly(command: argparse.ArgumentParser) -> None:
    """Flags for the finished file: book tags, pauses, loudness, parts."""
    group = command.add_argument_group("the finished file")
    group.add_argument("--title", help="book title for the tags (default: from the book or the file name)")
    group.add_argument("--author", help="author for the tags (default: from the book)")
    group.add_argument("--cover", metavar="IMAGE", help="cover picture, JPEG or PNG (default: the EPUB's cover)")
    group.add_argument("--loudnorm", action="store_true", help="normalise loudness (EBU R128) in the final encode")
    group.add_argument("--part-hours", type=_hours, metavar="H", help="split books longer than H hours into parts")
    group.add_argument("--captions", choices=("srt", "vtt"),
                       help="write a caption sidecar beside the output, one cue per sentence")  # fmt: skip
    group.add_argument("--no-seams", action="store_true",
                       help="join chunks as they are, without trimming edges or even pauses")  # fmt: skip


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"days must be 0 or more, got {text}")
    return value


def _whole(text: str) -> int:
    return _whole_number(text, 0)


def _prune_command(args: argparse.Namespace) -> int:
    from tui_tts.commands.prune import prune_command

    return _run_async(lambda: prune_command(args))


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours: {text!r}") from None
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"hours must be between 0 (never split) and 1000, got {text}")
    return value


def _run_command(args: argparse.Namespace) -> int:
    if args.list_chapters:
        from tui_tts.commands.chapters import list_chapters

        return list_chapters(args)
    from tui_tts.commands.overrides import book_flags, run_overrides
    from tui_tts.run.request import RunRequest

    request = RunRequest(
        input=Path(args.input), output=Path(args.output) if args.output else None, config=args.config,
        data_dir=args.data_dir, overrides=run_overrides(args), chapters=args.chapters or "",
        front_matter=args.include_front_matter, book=book_flags(args), fresh=args.fresh, yes=args.yes,
        detect_chapters=not args.no_chapters, strict_text=args.strict_text,
        voice=args.voice,
    )  # fmt: skip
    return _drive(request, args.headless)


def _resume_command(args: argparse.Namespace) -> int:
    """`resume RUN` and `retry RUN`: exactly that run, with the settings stored for it."""
    from tui_tts.commands.overrides import run_overrides
    from tui_tts.run.request import RunRequest

    request = RunRequest(
        output=Path(args.output) if args.output else None, config=args.config, data_dir=args.data_dir,
        overrides=run_overrides(args), yes=args.yes, resume=args.run, only_failed=args.only_failed,
    )  # fmt: skip
    return _drive(request, args.headless)


def _redo_command(args: argparse.Namespace) -> int:
    """`redo RUN CHUNK [--text T]`: that chunk made again (the rest of the run resumed), then the book joined again."""
    from tui_tts.commands.overrides import run_overrides
    from tui_tts.run.request import RunRequest

    request = RunRequest(
        output=Path(args.output) if args.output else None, config=args.config, data_dir=args.data_dir,
        overrides=run_overrides(args), yes=args.yes, resume=args.run, redo=args.chunk - 1, redo_text=args.text,
    )  # fmt: skip
    return _drive(request, args.headless)


def _drive(request: RunRequest, headless: bool) -> int:
    """The dashboard on a terminal, plain progress otherwise."""
    if not headless and sys.stdout.isatty() and sys.stdin.isatty():
        from tui_tts.ui.dashboard import run_dashboard

        return _run_async(lambda: run_dashboard(request))
    from tui_tts.commands.headless import run_headless

    return _run_async(lambda: run_headless(request))


def _doctor_command(args: argparse.Namespace) -> int:
    from tui_tts.commands.doctor import run_doctor

    return _run_async(lambda: run_doctor(args))


def _demo_command(args: argparse.Namespace) -> int:
    from tui_tts.commands.demo import run_demo

    return _run_async(lambda: run_demo(args))


def _emulate_command(args: argparse.Namespace) -> int:
    from tui_tts.emulator.cli import serve_emulator

    return _run_async(lambda: serve_emulator(args))


def _run_async(make: Callable[[], Coroutine[Any, Any, int]]) -> int:
    return asyncio.run(make())


def main(argv: Sequence[str] | None = None) -> int:
    from tui_tts.commands.streams import protect_standard_streams

    protect_standard_streams()  # a closed pipe must never hang a run or print a traceback
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except UserError as exc:
        print(f"tui-tts: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except StoreError as exc:
        print(f"tui-tts: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ntui-tts: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
