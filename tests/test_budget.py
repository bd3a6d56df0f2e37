"""The budget cap against the emulator: no job is submitted once spend plus the jobs in flight would pass it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_remote_runs import STORY
from tui_tts.emulator import EmulatorConfig, running_emulator
from tui_tts.errors import RunAborted
from tui_tts.events import ChunkSucceeded, EventBus, LogEmitted
from tui_tts.models import Chunk
from tui_tts.run.budget import BudgetGate
from tui_tts.run.request import RunRequest
from tui_tts.run.session import open_session


def _request(tmp_path: Path, url: str) -> RunRequest:
    source = tmp_path / "story.txt"
    source.write_text(STORY, encoding="utf-8")
    overrides = {
        "engine": "runpod", "output": {"format": "wav"},
        "run": {"concurrency": 4, "max_chars": 100, "retry_base_delay": 0.01, "budget": 2.0},
        # The preview's estimate is half the truth (1/16 s of audio a character x 0.024 x $1/s): the gate learns
        # the real cost per character from the first jobs.
        "runpod": {"endpoint_url": url, "poll_initial": 0.02, "poll_max": 0.05, "cost_per_second": 1.0,
                   "realtime_factor": 0.024},
    }  # fmt: skip
    return RunRequest(input=source, output=tmp_path / "out.wav", data_dir=str(tmp_path / "data"),
                      overrides=overrides, yes=True)  # fmt: skip


async def test_a_run_stops_submitting_at_the_budget_within_one_jobs_cost(tmp_path: Path) -> None:
    # A job costs its executionTime at $1/s: about 0.1 s + 2 ms a character, $0.2-0.3 a chunk.
    config = EmulatorConfig(workers=4, latency=0.1, latency_per_char=0.002, jitter=0.2, seconds_per_char=0.01)
    costs: list[float] = []
    said: list[str] = []
    async with running_emulator(config) as (url, emulator):
        async with open_session(_request(tmp_path, url)) as session:
            session.bus.subscribe(lambda e: costs.append(float(e.job_facts["cost"]))  # type: ignore[arg-type]
                                  if isinstance(e, ChunkSucceeded) else None)  # fmt: skip
            session.bus.subscribe(lambda e: said.append(e.message) if isinstance(e, LogEmitted) else None)
            gate = session.controller.scheduler.budget
            assert gate is not None and gate.budget == 2.0
            assert "over the budget of $2.00: it pauses after about" in session.remaining_cost().describe()
            with pytest.raises(RunAborted, match=r"budget \$2.00 reached") as stopped:
                await session.controller.execute()
            total = len(session.plan.chunks)
        stats = emulator.stats()
    assert 4 <= len(costs) < total and stats["submitted"] == len(costs)  # every job sent was one that was paid
    assert sum(costs) <= 2.0 + max(costs)  # within one job's cost of the cap
    assert gate.spent == pytest.approx(sum(costs))
    assert "run the same command with a larger --budget" in str(stopped.value)
    assert any(line.startswith("budget $2.00 reached") for line in said)


def _chunk(index: int, chars: int) -> Chunk:
    return Chunk(index, 0, 0, chars, "x" * chars)


def test_the_gate_reserves_in_flight_pauses_and_goes_on_when_raised() -> None:
    bus = EventBus()
    events: list[object] = []
    bus.subscribe(events.append)
    gate = BudgetGate(1.0, 0.25, 0.001)  # $0.25 spent in an earlier session; $0.10 per 100-character chunk
    paused: list[bool] = []
    stopped: list[str] = []
    gate.bind(bus, lambda: paused.append(True), lambda: paused.append(False), stopped.append)
    gate.stops = False  # the dashboard: wait for a key
    assert all(gate.check(_chunk(n, 100), n) for n in range(7))  # 0.25 + 7 x 0.10 = 0.95
    assert not gate.check(_chunk(7, 100), 7) and paused == [True] and gate.paused
    assert "press b" in str(events[-1]) and not stopped
    gate.raise_budget(0.25)
    assert gate.budget == 1.25 and paused == [True, False] and not gate.paused
    assert gate.check(_chunk(7, 100), 7)


def test_space_at_the_cap_lifts_it_and_headless_stops_when_drained() -> None:
    bus = EventBus()
    gate = BudgetGate(0.15, 0.0, 0.001)
    stopped: list[str] = []
    gate.bind(bus, lambda: None, lambda: None, stopped.append)
    assert gate.check(_chunk(0, 100), 0) and not gate.check(_chunk(1, 100), 1)
    bus.emit(ChunkSucceeded(0, 1, "a.wav", "pcm_s16le", 24_000, 1, 1.0, 0.2, {"cost": 0.12}))
    gate.drained()  # nothing in flight, and 0.12 + 0.10 does not fit in 0.15: headless stops
    assert stopped and "stopped with all progress kept" in stopped[0]
    gate.person_resumed()
    assert gate.budget is None and gate.check(_chunk(1, 100), 0)


@pytest.mark.slow
async def test_the_dashboard_pauses_at_the_cap_b_raises_it_and_space_goes_on(tmp_path: Path) -> None:
    from tests.test_dashboard import header_text, log_text, until
    from tui_tts.ui.app import DashboardApp

    config = EmulatorConfig(workers=4, latency=0.1, latency_per_char=0.002, jitter=0.2, seconds_per_char=0.01)
    async with running_emulator(config) as (url, _):
        request = _request(tmp_path, url)
        request.overrides["run"]["budget"] = 2.0  # type: ignore[index]
        async with open_session(request) as session:
            gate = session.controller.scheduler.budget
            assert gate is not None
            app = DashboardApp(session)
            assert not gate.stops  # at the cap the dashboard waits for a key
            async with app.run_test(size=(100, 30)) as pilot:
                await until(pilot, lambda: gate.paused and app.scheduler.in_flight == 0)
                done = session.stats.done
                assert "PAUSED" in header_text(app) and "budget $2.00 reached" in log_text(app)
                await pilot.press("b")
                assert gate.budget == 2.5 and "budget raised to $2.50" in log_text(app)
                await until(pilot, lambda: session.stats.done > done and gate.paused and app.scheduler.in_flight == 0)
                assert gate.spent <= 2.5 + 0.4
                await pilot.press("space")
                assert gate.budget is None and "budget lifted" in log_text(app)
                await until(pilot, lambda: app.finished)
                assert app.exit_code == 0 and session.stats.done == len(session.plan.chunks)
                await pilot.press("q")


def test_the_cap_is_said_once_when_several_workers_reach_it_and_small_sums_keep_their_digits() -> None:
    bus = EventBus()
    said: list[str] = []
    bus.subscribe(lambda e: said.append(e.message) if isinstance(e, LogEmitted) else None)
    gate = BudgetGate(0.05, 0.0497, 0.00001)  # a job of 100 characters: $0.001, a tenth of a cent
    gate.bind(bus, lambda: None, lambda: None, lambda reason: None)
    assert not gate.check(_chunk(0, 100), 3) and not gate.check(_chunk(1, 100), 3)  # two workers, one cap
    assert len(said) == 1
    assert said[0].startswith("budget $0.05 reached: $0.0497 spent, $0.00 expected in flight, the next chunk about "
                              "$0.0010")  # fmt: skip
    gate.raise_by(0.25)
    assert gate.budget == 0.06
    tiny = BudgetGate(0.01, 0.0, 0.001)
    tiny.raise_by(0.25)
    assert tiny.budget == 0.02  # b raises even a one-cent cap


async def test_a_budget_without_the_engines_price_is_refused_before_anything_starts(tmp_path: Path) -> None:
    from tui_tts.errors import UserError

    request = _request(tmp_path, "http://127.0.0.1:9/v2/nothing-listens")
    request.overrides["runpod"]["cost_per_second"] = 0.0  # type: ignore[index]
    with pytest.raises(UserError, match="no price is set for the runpod engine"):
        async with open_session(request):
            pass
    assert not (tmp_path / "data" / "tui-tts.db").exists()  # refused before a run was recorded
