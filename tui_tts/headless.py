"""The headless driver: a run with plain progress output, for scripts and for terminals without the dashboard."""

from __future__ import annotations

import sys

from tui_tts.errors import EXIT_CHUNKS_FAILED, EXIT_INTERRUPTED, EXIT_OK, UserError
from tui_tts.interrupts import install_interrupt_handler
from tui_tts.progress import HeadlessProgress, format_duration
from tui_tts.request import RunRequest
from tui_tts.session import open_session


async def run_headless(request: RunRequest) -> int:
    async with open_session(request) as session:
        plan = session.plan
        engine = session.controller.engine.describe()
        if plan.resumed:
            adopted = f", {plan.adopted} recovered from disk" if plan.adopted else ""
            attached = f", {len(plan.resume_jobs)} remote job(s) to re-attach" if plan.resume_jobs else ""
            print(f"resuming: {plan.done}/{len(plan.chunks)} done{adopted}{attached} (run {plan.run.id}, {engine})",
                  file=sys.stderr)  # fmt: skip
        else:
            if plan.changed:
                print(f"settings changed since the last run of this input ({'; '.join(plan.changed)}): "
                      "starting a new run", file=sys.stderr)  # fmt: skip
            print(f"new run {plan.run.id}: {len(plan.chunks)} chunks from {session.input_path.name}, {engine}",
                  file=sys.stderr)  # fmt: skip
        if session.nothing_to_do:
            print(session.nothing_to_do, file=sys.stderr)
            return EXIT_OK
        confirm = session.cost_to_confirm()
        if confirm:
            await session.set_aside()
            raise UserError(f"this run would cost money: {confirm}; add --yes to start it")
        estimate = session.remaining_cost()
        if estimate.paid:
            print(f"estimated: {estimate.describe()}", file=sys.stderr)
        progress = HeadlessProgress(session.stats)
        session.bus.subscribe(progress)
        install_interrupt_handler(session.controller.interrupt)
        outcome = await session.controller.execute()
        progress.finish()
        if outcome.interrupted:
            print(f"stopped: {session.stats.done}/{len(plan.chunks)} done and saved; run the same command to resume",
                  file=sys.stderr)  # fmt: skip
            return EXIT_INTERRUPTED
        if outcome.failed:
            print(f"{len(outcome.failed)} chunk(s) failed for good; the rest is saved. Run the same command (or "
                  f"'tui-tts retry {plan.run.id}') to retry them.", file=sys.stderr)  # fmt: skip
            return EXIT_CHUNKS_FAILED
        if outcome.pending:
            print(f"{len(outcome.pending)} chunk(s) are still to do: 'tui-tts resume {plan.run.id}'", file=sys.stderr)
            return EXIT_CHUNKS_FAILED
        assert outcome.output is not None
        result = outcome.output
        how = "stream copy" if result.copied else "one encode"
        print(f"wrote {result.written} ({format_duration(result.duration)} of audio, {result.size_bytes / 1e6:.1f} MB, "
              f"{how}) in {outcome.elapsed:.1f} s", file=sys.stderr)  # fmt: skip
        print("\n".join(str(path) for path in result.files))
        return EXIT_OK
