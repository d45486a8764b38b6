"""Background jobs: one queue in the ``job`` table, workers that claim jobs as the worker.

Work that must not run in a request (embeddings now; pushes, media clean-up and derived
fields later) is a job: ``enqueue(session, kind, payload)`` writes it, database events write
some by themselves (``fn::enqueue_job`` in migration ``0015``), and a ``Worker`` runs it. A
worker is a thread inside the app process on the embedded engine, or any number of
``idance worker`` processes against a SurrealDB server.

- A job is claimed with a conditional update (``… WHERE state = 'queued' AND run_after <=
  now``) that also writes a fresh claim token: of two workers racing for a job one update
  matches and the other finds nothing (or, on a server, loses the transaction), so no job is
  claimed twice. Only the holder of the token may finish the job.
- Delivery is at least once: a worker that dies leaves its job ``running`` until the claim's
  lease (``run_after`` while running) lapses, and then another worker takes it. Handlers are
  therefore idempotent.
- A failing handler is retried with exponential back-off and, after ``max_attempts``, kept as
  ``failed`` with its error. Its exception is caught and logged: it never ends the process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from .db import Database, DatabaseError

log = logging.getLogger("idance.jobs")

Handler = Callable[[Database, dict], Any]
BatchHandler = Callable[[Database, list[dict]], Any]
HANDLERS: dict[str, Handler] = {}
# Optional: one call for many jobs of a kind (one read, one write for a whole batch). A batch
# that raises is run again job by job, so one bad job fails alone.
BATCH_HANDLERS: dict[str, BatchHandler] = {}
STATES = ("queued", "running", "done", "failed")
BACKOFF_BASE_S = 10
BACKOFF_MAX_S = 3600
LEASE_S = 600  # a claim older than this belongs to a worker that died
KEEP_DONE_DAYS = 7
MAX_ERROR = 2000

_ENQUEUE = """CREATE ONLY job SET kind = $kind, payload = $payload,
    run_after = time::now() + <duration> $delay RETURN VALUE id"""
# As fn::enqueue_job, which events use: a job already waiting keeps its time (so a stream of
# changes cannot keep pushing a delayed job back).
_ENQUEUE_SUBJECT = """LET $id = type::thing('job', [$kind, $subject]);
    IF (SELECT VALUE state FROM ONLY $id) != 'queued' {
        UPSERT $id SET kind = $kind, payload = $payload, state = 'queued', attempts = 0,
            run_after = time::now() + <duration> $delay, error = NONE, claim = NONE,
            claimed_by = NONE, finished_at = NONE RETURN NONE;
    };
    RETURN $id"""
# No ORDER BY: the (state, run_after) index already yields the oldest first, and with an
# ORDER BY the engine reads every due job before cutting to the limit (1 s at 30k queued,
# against 0.07 s without; measured).
_READY = """SELECT id FROM job WHERE state = $state AND run_after <= time::now()
    LIMIT $limit"""
_CLAIM = """UPDATE $ids SET state = 'running', attempts += 1, claim = $claim,
    claimed_by = $worker, run_after = time::now() + <duration> $lease
    WHERE state IN ['queued', 'running'] AND run_after <= time::now()
    RETURN id, kind, payload, attempts, max_attempts"""
_DONE_ALL = """UPDATE $ids SET state = 'done', error = NONE, claim = NONE,
    finished_at = time::now(), run_after = time::now() WHERE claim = $claim RETURN NONE"""
_DONE = """UPDATE $id SET state = 'done', error = NONE, claim = NONE,
    finished_at = time::now(), run_after = time::now() WHERE claim = $claim"""
_FAILED = """UPDATE $id SET state = IF attempts >= max_attempts OR $final THEN 'failed'
    ELSE 'queued' END, error = $error, claim = NONE, run_after = time::now() + <duration> $delay,
    finished_at = IF attempts >= max_attempts OR $final THEN time::now() END
    WHERE claim = $claim RETURN state"""
_PURGE = """DELETE job WHERE state = 'done'
    AND run_after < time::now() - <duration> $keep RETURN NONE"""
_COUNTS = "SELECT state, count() AS n FROM job GROUP BY state"
_FAILURES = """SELECT id, kind, attempts, error, finished_at FROM job
    WHERE state = 'failed' ORDER BY finished_at DESC LIMIT $limit"""


class NoHandler(Exception):
    """A job names a kind no handler is registered for."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``function(db, payload)`` as the handler of ``kind`` (a decorator)."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def batch_handler(kind: str) -> Callable[[BatchHandler], BatchHandler]:
    """Register ``function(db, payloads)`` to run many ``kind`` jobs at once (a decorator)."""

    def register(function: BatchHandler) -> BatchHandler:
        BATCH_HANDLERS[kind] = function
        return function

    return register


def _seconds(value: float) -> str:
    return f"{max(0, int(round(value * 1000)))}ms"


def enqueue(session, kind: str, payload: dict | None = None, subject: Any = None,
            delay: float = 0) -> Any:
    """Queue a job of ``kind`` with ``payload``; return its id.

    ``session`` is a worker (or system) session. With ``subject`` the job's id is
    ``job:[kind, subject]``: queueing it again before it runs changes nothing, and queueing
    it while it runs makes it run once more afterwards.
    """
    variables = {"kind": kind, "payload": payload or {}, "delay": _seconds(delay)}
    if subject is None:
        return session.value(_ENQUEUE, variables)
    return session.value(_ENQUEUE_SUBJECT, dict(variables, subject=subject))


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 10 s, 20 s, 40 s, … up to an hour."""
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def counts(db: Database) -> dict[str, int]:
    """How many jobs are in each state (every state listed, zeros included)."""
    with db.worker() as s:
        rows = s.rows(_COUNTS)
    found = {row["state"]: int(row["n"]) for row in rows}
    return {state: found.get(state, 0) for state in STATES}


def failures(db: Database, limit: int = 10) -> list[dict]:
    """The latest failed jobs with their errors."""
    with db.worker() as s:
        return s.rows(_FAILURES, {"limit": int(limit)})


@dataclass
class Outcome:
    """What ``Worker.run_once`` did with one job."""

    id: Any
    kind: str
    state: str  # done | queued (to retry) | failed | lost (its claim was taken back)
    error: str | None = None


class Worker:
    """Claims and runs jobs as the worker identity."""

    def __init__(self, db: Database, name: str | None = None,
                 handlers: dict[str, Handler] | None = None, lease: float = LEASE_S,
                 batch: int = 1, batch_handlers: dict[str, BatchHandler] | None = None):
        self.db = db
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.handlers = HANDLERS if handlers is None else handlers
        self.lease = lease
        self.batch = max(1, int(batch))
        self.batch_handlers = BATCH_HANDLERS if batch_handlers is None else batch_handlers
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    # -- claiming and running ------------------------------------------------------------------
    def claim(self, limit: int = 1) -> list[dict]:
        """Claim up to ``limit`` jobs that waited longest (or whose claim lapsed).

        One conditional update over the candidates: a job another worker took meanwhile no
        longer matches and is simply not returned.
        """
        token = uuid.uuid4().hex
        claimed: list[dict] = []
        with self.db.worker() as s:
            for state in ("queued", "running"):
                if len(claimed) >= limit:
                    break
                ids = [row["id"] for row in
                       s.rows(_READY, {"state": state, "limit": limit - len(claimed)})]
                if not ids:
                    continue
                try:
                    rows = s.rows(_CLAIM, {"ids": ids, "claim": token, "worker": self.name,
                                           "lease": _seconds(self.lease)})
                except DatabaseError as exc:
                    # On a server the loser of a race gets a transaction conflict.
                    log.debug("claim lost: %s", exc)
                    continue
                claimed += [dict(row, claim=token) for row in rows]
        return claimed

    def run_once(self) -> list[Outcome]:
        """Claim due jobs (up to the batch size) and run them; [] when nothing is due."""
        jobs = self.claim(self.batch)
        groups: dict[str, list[dict]] = {}
        for job in jobs:
            groups.setdefault(job["kind"], []).append(job)
        outcomes = []
        for kind, group in groups.items():
            batch = self.batch_handlers.get(kind)
            if batch is not None and len(group) > 1 and self._run_batch(batch, group):
                outcomes += [Outcome(job["id"], kind, "done") for job in group]
            else:
                outcomes += [self._run_one(job) for job in group]
        return outcomes

    def _run_batch(self, function: BatchHandler, group: list[dict]) -> bool:
        if any(int(job["attempts"]) > int(job["max_attempts"]) for job in group):
            return False
        try:
            function(self.db, [dict(job.get("payload") or {}) for job in group])
        except Exception:
            log.warning("batch of %d %s jobs failed; running them one by one", len(group),
                        group[0]["kind"], exc_info=True)
            return False
        with self.db.worker() as s:
            s.query(_DONE_ALL, {"ids": [job["id"] for job in group], "claim": group[0]["claim"]})
        return True

    def _run_one(self, job: dict) -> Outcome:
        kind, attempts = job["kind"], int(job["attempts"])
        function = self.handlers.get(kind)
        final = False
        try:
            if function is None:
                final = True
                raise NoHandler(f"no handler for job kind {kind!r}")
            if attempts > int(job["max_attempts"]):
                final = True  # its workers kept dying: stop handing it out
                raise RuntimeError(f"gave up after {attempts - 1} attempts")
            function(self.db, dict(job.get("payload") or {}))
        except Exception as exc:  # a handler's failure is the job's, never the process's
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
            log.warning("job %s (%s) attempt %d failed: %s", job["id"], kind, attempts, error,
                        exc_info=not isinstance(exc, NoHandler))
            return self._finish_failed(job, error, final)
        with self.db.worker() as s:
            done = s.rows(_DONE, {"id": job["id"], "claim": job["claim"]})
        return Outcome(job["id"], kind, "done" if done else "lost")

    def _finish_failed(self, job: dict, error: str, final: bool) -> Outcome:
        with self.db.worker() as s:
            rows = s.rows(_FAILED, {"id": job["id"], "claim": job["claim"], "error": error,
                                    "final": final,
                                    "delay": _seconds(backoff(int(job["attempts"])))})
        state = rows[0]["state"] if rows else "lost"
        return Outcome(job["id"], job["kind"], state, error)

    def run_due(self, limit: int = 1000) -> list[Outcome]:
        """Run due jobs until none is left (or ``limit``); for tests and ``--once``."""
        outcomes: list[Outcome] = []
        while len(outcomes) < limit:
            done = self.run_once()
            if not done:
                break
            outcomes += done
        return outcomes

    def purge(self) -> None:
        """Delete jobs that finished more than a week ago."""
        with self.db.worker() as s:
            s.query(_PURGE, {"keep": f"{KEEP_DONE_DAYS}d"})

    # -- the loop -----------------------------------------------------------------------------
    def run(self, poll: float = 1.0) -> None:
        """Run jobs until ``stop()``; sleep ``poll`` seconds when none is due."""
        idle = poll
        while not self._stop.is_set():
            try:
                if time.monotonic() - self._last_purge > 3600:
                    self._last_purge = time.monotonic()
                    self.purge()
                ran = self.run_once()
                idle = poll
            except Exception:  # the database went away: wait, then try again
                log.exception("worker %s: cannot reach the job queue", self.name)
                ran, idle = [], min(idle * 2, 60.0)
            if not ran:
                self._stop.wait(idle)

    def start(self, poll: float = 1.0) -> threading.Thread:
        """Run in a daemon thread (the app's in-process worker)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(poll,), name="idance-worker",
                                        daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end after its current job, and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
