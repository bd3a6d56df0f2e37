"""One circuit breaker per run for the endpoint as a whole: an outage pauses dispatch, it does not fail chunks.

Engines report every request: answered (any HTTP status below 500) or not (connection refused, reset, timeout, 5xx).
A few unanswered requests in a row, with no answer in between, open the breaker: dispatch waits, one chunk at a time
probes the endpoint with growing delays, and chunks that fail meanwhile get their attempt back. The first answer
closes it. An outage longer than `patience` seconds stops the run (everything done so far is kept).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

OPEN_AFTER = 4  # unanswered requests in a row (none answered in between) that make an outage
PROBE_TIMEOUT = 30.0  # a probe that reported nothing for this long no longer holds the others back


class EndpointBreaker:
    """Closed while the endpoint answers; open (dispatch paused, probing with backoff) while it does not."""

    def __init__(
        self,
        patience: float,
        *,
        base_delay: float = 2.0,
        max_delay: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.patience = patience
        self._base = base_delay
        self._cap = max_delay
        self._clock = clock
        self._wall = wall
        self._rng = rng or random.Random()
        self._streak = 0
        self._first_miss = 0.0  # clock time of the first unanswered request of the streak
        self._first_miss_wall = 0.0
        self._probes = 0  # failed probes since the breaker opened: the backoff exponent
        self._next_probe = 0.0
        self._probe_taken_at: float | None = None
        self.is_open = False
        self.outages = 0
        self.changes: list[Callable[[bool], None]] = []  # called with is_open after it opens or closes

    def record_answered(self) -> None:
        """The endpoint answered a request (even with an error of its own): it is reachable."""
        self._streak = 0
        self._probe_taken_at = None
        if self.is_open:
            self.is_open = False
            self._notify()

    def record_unanswered(self) -> None:
        """A request got no usable answer from the endpoint (refused, reset, timed out, 5xx)."""
        now = self._clock()
        if self._streak == 0:
            self._first_miss, self._first_miss_wall = now, self._wall()
        self._streak += 1
        if self.is_open:
            if self._probe_taken_at is not None:  # the probe failed: wait longer before the next one
                self._probe_taken_at = None
                self._probes += 1
                self._next_probe = now + self._delay()
            return
        if self._streak >= OPEN_AFTER:
            self.is_open = True
            self.outages += 1
            self._probes = 0
            self._next_probe = now + self._delay()
            self._notify()

    def dispatch_hold(self) -> float:
        """Seconds a chunk must wait before it may be sent; 0 means now (while open, it is then the one probe)."""
        if not self.is_open:
            return 0.0
        now = self._clock()
        if self._probe_taken_at is not None and now - self._probe_taken_at < PROBE_TIMEOUT:
            return min(1.0, PROBE_TIMEOUT - (now - self._probe_taken_at))
        if now < self._next_probe:
            return self._next_probe - now
        self._probe_taken_at = now
        return 0.0

    @property
    def streak(self) -> int:
        """Requests in a row, up to now, that the endpoint did not answer (0 once any request is answered)."""
        return self._streak

    @property
    def retry_in(self) -> float:
        """Seconds until the next probe may go (0 while closed)."""
        return max(0.0, self._next_probe - self._clock()) if self.is_open else 0.0

    @property
    def down_for(self) -> float:
        """Seconds since the first unanswered request of the current outage (0 while closed)."""
        return self._clock() - self._first_miss if self.is_open else 0.0

    @property
    def patience_exhausted(self) -> bool:
        return self.is_open and self.down_for >= self.patience

    def describe(self) -> str:
        """'endpoint unreachable since 14:02:11, retrying in 40 s' (or 'probing now')."""
        since = time.strftime("%H:%M:%S", time.localtime(self._first_miss_wall))
        wait = self.retry_in
        when = f"retrying in {wait:.0f} s" if wait >= 0.5 else "probing now"
        return f"endpoint unreachable since {since}, {when}"

    def _delay(self) -> float:
        """Jittered exponential backoff between probes: about base, 1.5 base, 2.25 base ... up to the cap."""
        delay = min(self._cap, self._base * 1.5**self._probes)
        return delay * self._rng.uniform(0.8, 1.2)

    def _notify(self) -> None:
        for change in list(self.changes):
            change(self.is_open)
