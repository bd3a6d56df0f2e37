"""The dashboard header: what runs where, the mode, progress, throughput, ETA and spend.

Built as Content, never as markup: a book title or an engine description is shown literally, whatever brackets it
holds. The figures come first, in order of importance, so a narrow terminal (80 columns) cuts only the least useful.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui_tts.run.limits import ConcurrencyLimit
from tui_tts.run.progress import RunStats, format_duration

WIDE = 100  # below this many columns the bar is shorter and the labels terser


def mode_label(limit: ConcurrencyLimit, paused: bool) -> str:
    """PARALLEL xN, SEQUENTIAL or PAUSED, with the adaptive limit when it is below the user's."""
    if paused:
        return f"PAUSED (x{limit.effective} on resume)" if limit.parallel else "PAUSED (sequential on resume)"
    if not limit.parallel:
        return "SEQUENTIAL"
    label = f"PARALLEL x{limit.user}"
    if limit.effective < limit.user:
        capped = limit.endpoint_cap is not None and limit.effective == limit.endpoint_cap < limit.adaptive
        label += f" ({'endpoint' if capped else 'adaptive'} {limit.effective})"
    return label


def bar(fraction: float, width: int = 24) -> str:
    filled = round(width * max(0.0, min(1.0, fraction)))
    return "█" * filled + "░" * (width - filled)


def header_content(title: str, engine: str, stats: RunStats, limit: ConcurrencyLimit, paused: bool, stage: str,
                   width: int) -> Content:  # fmt: skip
    """Two lines: title, mode, bar, stage and engine; then done, running, failures, ETA, rates, spend, elapsed."""
    wide = width >= WIDE
    fraction = stats.done / stats.total if stats.total else 1.0
    mode_style = "bold $warning" if paused else ("bold $accent" if limit.parallel else "bold $secondary")
    stage_style = "bold $error" if stage == "error" else ""
    first: list[tuple[str, str] | str] = [(title if wide else title[:24], "bold"), "  ",
                                          (mode_label(limit, paused), mode_style), "  ",
                                          (bar(fraction, 24 if wide else 12), "$success"),
                                          f" {100 * fraction:5.1f}%"]  # fmt: skip
    if stage:
        first += ["  ", (stage, stage_style)]
    first += ["  ", (engine, "dim")]
    second: list[tuple[str, str] | str] = [f"{stats.done}/{stats.total} done  {len(stats.running)} running"]
    if stats.retrying:
        second += ["  ", (f"{len(stats.retrying)} retrying", "bold $warning")]
    second += ["  ", (f"{stats.failed} failed", "bold $error") if stats.failed else "0 failed"]
    if stats.cold_start_label:  # before the rates: it explains why they are low
        second += ["  ", (stats.cold_start_label, "bold $warning")]
    per_minute = f"{stats.chunks_per_minute:.0f} chunks/min" if wide else f"{stats.chunks_per_minute:.0f}/min"
    second.append(f"  ETA {format_duration(stats.eta_seconds)}  {per_minute}")
    if stats.spend:
        second.append(f"  ${stats.spend:.4f}")
    second.append(f"  {stats.audio_per_second:.1f} s audio/s  elapsed {format_duration(stats.elapsed)}")
    if stats.playable:
        second += ["  ", (stats.playable, "$success")]
    if stats.endpoint:
        second += ["  ", (stats.endpoint, "dim")]
    return Content.assemble(*first, "\n", *second)


class RunHeader(Static):
    """Two lines, redrawn from the run's counters whenever the dashboard asks."""

    def show(self, title: str, engine: str, stats: RunStats, limit: ConcurrencyLimit, paused: bool,
             stage: str = "") -> None:  # fmt: skip
        self.update(header_content(title, engine, stats, limit, paused, stage, self.size.width or WIDE))
