"""Concurrency limits: the user's (parallel N or sequential 1) and an adaptive AIMD limit that never exceeds it."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field


@dataclass
class ConcurrencyLimit:
    """The effective limit is 1 when sequential, else the smaller of the user's and the adaptive limit.

    The adaptive part halves on a 429 and shrinks by a quarter on a 5xx or timeout, at most once per wave: only a
    failure of a request that started after the last cut counts, so a burst of 429s from one wave cuts once. It
    grows by one per success, back up to the user's limit, so a passing fault costs little.
    """

    user: int
    parallel: bool = True
    adaptive: int = 0
    decrease_factor: float = 0.5
    endpoint_cap: int | None = None  # what the endpoint's workers can take before jobs wait past their deadline
    _last_cut_at: float = field(default=-math.inf, repr=False)

    def __post_init__(self) -> None:
        self.user = max(1, self.user)
        self.adaptive = self.adaptive or self.user

    @property
    def effective(self) -> int:
        if not self.parallel:
            return 1
        return max(1, min(self.user, self.adaptive, self.endpoint_cap or self.user))

    def set_user(self, value: int) -> None:
        """The user's word rules: it also resets what the adaptive limit had learnt."""
        self.user = max(1, min(256, value))
        self.adaptive = self.user

    def record_overload(self, request_started_at: float, factor: float | None = None) -> bool:
        """A 429 (halves), or a 5xx or timeout (x0.75). Returns True when the limit was cut."""
        if request_started_at < self._last_cut_at or self.adaptive <= 1:
            return False
        factor = self.decrease_factor if factor is None else factor
        self.adaptive = max(1, math.floor(min(self.adaptive, self.user) * factor))
        self._last_cut_at = time.monotonic()
        return True

    def record_success(self) -> bool:
        """Grow by one per success while below the user's limit (Netflix's AIMD). Returns True when it grew."""
        if self.adaptive >= self.user:
            return False
        self.adaptive += 1
        return True


def full_jitter_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
    draw: float = (rng or random).random()
    return float(draw * min(cap, base * 2 ** max(0, attempt - 1)))
