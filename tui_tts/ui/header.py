"""The dashboard header: what runs where, the mode, progress, throughput, ETA and spend."""

from __future__ import annotations

from textual.widgets import Static

from tui_tts.limits import ConcurrencyLimit
from tui_tts.progress import RunStats, format_duration


def mode_label(limit: ConcurrencyLimit, paused: bool) -> str:
    """PARALLEL xN, SEQUENTIAL or PAUSED, with the adaptive limit when it is below the user's."""
    if paused:
        return "PAUSED"
    if not limit.parallel:
        return "SEQUENTIAL"
    label = f"PARALLEL x{limit.user}"
    if limit.effective < limit.user:
        label += f" (adaptive {limit.effective})"
    return label


def bar(fraction: float, width: int = 24) -> str:
    filled = round(width * max(0.0, min(1.0, fraction)))
    return "█" * filled + "░" * (width - filled)


class RunHeader(Static):
    """Two lines, redrawn from the run's counters whenever the dashboard asks."""

    def show(self, title: str, engine: str, stats: RunStats, limit: ConcurrencyLimit, paused: bool,
             stage: str = "") -> None:  # fmt: skip
        fraction = stats.done / stats.total if stats.total else 1.0
        mode = mode_label(limit, paused)
        mode_style = "$warning" if paused else ("$accent" if limit.parallel else "$secondary")
        first = (f"[b]{title}[/b]  [b {mode_style}]{mode}[/]  [$success]{bar(fraction)}[/] {100 * fraction:5.1f}%"
                 f"{'  ' + stage if stage else ''}  [dim]{engine}[/dim]")  # fmt: skip
        failed = f"[b $error]{stats.failed} failed[/]" if stats.failed else "0 failed"
        retrying = f"[b $warning]{len(stats.retrying)} retrying[/]" if stats.retrying else "0 retrying"
        spend = f"  ${stats.spend:.4f}" if stats.spend else ""
        rates = f"{stats.chunks_per_minute:.0f} chunks/min  {stats.audio_per_second:.1f} s audio/s"
        eta = f"ETA {format_duration(stats.eta_seconds)}"
        second = (f"{stats.done}/{stats.total} done  {len(stats.running)} running  {retrying}  {failed}  "
                  f"elapsed {format_duration(stats.elapsed)}  {rates}  {eta}{spend}")  # fmt: skip
        self.update(first + "\n" + second)
