"""Losing and regaining a SurrealDB server: which failures mean the connection is gone, and
when to try the server again.

The SDK's WebSocket connection opens its socket once; after the server closes it or the network
drops it, every call on that connection fails for good. So the database layer drops a
connection whose transport failed, answers 503 for the request under way, and the next block
opens a new connection: at once after the first failure, then after a delay that doubles with
each failed attempt up to a cap, with jitter so that several app processes do not return to a
restarted server in step. While the delay runs, blocks fail at once (503 with ``Retry-After``)
instead of each waiting on a server that is not there.
"""

from __future__ import annotations

import random
import time
from typing import Callable

from surrealdb.errors import ConnectionUnavailableError
from websockets.exceptions import WebSocketException

# What the SDK raises when the transport fails (it raises them bare): refused or reset
# sockets and timeouts are OSErrors, a closed WebSocket is a WebSocketException.
TRANSPORT_ERRORS = (OSError, WebSocketException, ConnectionUnavailableError)

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0


class Backoff:
    """Consecutive failed attempts and when the next may be made."""

    def __init__(self, first: float = FIRST_DELAY_S, cap: float = MAX_DELAY_S,
                 clock: Callable[[], float] = time.monotonic,
                 jitter: Callable[[], float] = random.random):
        self.first, self.cap = first, cap
        self._clock, self._jitter = clock, jitter
        self.failures = 0
        self._next = 0.0

    def wait(self) -> float:
        """Seconds until the next attempt may be made (0: now)."""
        return max(0.0, self._next - self._clock())

    def failed(self) -> float:
        """Count a failed attempt; return the delay before the next (half to all of
        ``first · 2ⁿ⁻¹``, at most ``cap``)."""
        self.failures += 1
        delay = min(self.cap, self.first * 2 ** (self.failures - 1))
        delay *= 0.5 + self._jitter() / 2
        self._next = self._clock() + delay
        return delay

    def succeeded(self) -> None:
        self.failures, self._next = 0, 0.0
