"""The headless driver: a run with plain progress output, for scripts and for terminals without the dashboard."""

from __future__ import annotations

import sys

from tui_tts.commands.interrupts import install_interrupt_handler
from tui_tts.errors import EXIT_OK, UserError
from tui_tts.run.closing_lines import closing_lines
from tui_tts.run.progress import HeadlessProgress
from tui_tts.run.request import RunRequest
from tui_tts.run.session import open_session


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
        for level, message in [*session.text_notes, *session.opening_notes()]:  # before anything is synthesised
            print(f"{level}: {message}" if level == "warning" else message, file=sys.stderr)
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
    closing = closing_lines(outcome, session.stats.done, len(plan.chunks), plan.run.id)
    closing.print()  # the same last lines as the dashboard prints when it closes
    return closing.exit_code
