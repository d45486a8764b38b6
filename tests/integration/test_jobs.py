"""Background jobs on the real engine: claiming, retries, exclusivity, the worker and its commands."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from surrealdb import RecordID

from idance_web import jobs
from idance_web.db import DatabaseError
from idance_web.jobs import Worker, enqueue
from tests.fixtures.dancers import dancer_with_styles
from idance_web.services import similar


def _job(db, job_id) -> dict:
    with db.system() as s:
        return s.one("SELECT * FROM ONLY $id", {"id": job_id})


def _make_due(db, job_id) -> None:
    with db.system() as s:
        s.query("UPDATE $id SET run_after = time::now() - 1s", {"id": job_id})


def _clear_queue(db) -> None:
    # Creating members queues their embedding jobs; tests that count jobs start empty.
    with db.system() as s:
        s.query("DELETE job")


def test_enqueue_claim_done(db):
    _clear_queue(db)
    seen = []
    worker = Worker(db, handlers={"note": lambda _db, payload: seen.append(payload)})
    with db.worker() as s:
        job_id = enqueue(s, "note", {"text": "hello"})
    assert _job(db, job_id)["state"] == "queued"

    [outcome] = worker.run_once()

    assert outcome.state == "done" and outcome.id == job_id
    assert seen == [{"text": "hello"}]
    row = _job(db, job_id)
    assert row["state"] == "done" and row["attempts"] == 1 and row.get("error") is None
    assert row["claimed_by"] == worker.name and row["finished_at"] is not None
    assert worker.run_once() == []  # nothing else is due


def test_failing_handler_is_retried_with_backoff_then_failed(db):
    _clear_queue(db)

    def boom(_db, payload):
        raise ValueError(f"bad payload {payload['n']}")

    worker = Worker(db, handlers={"boom": boom})
    with db.worker() as s:
        job_id = enqueue(s, "boom", {"n": 7})
    with db.system() as s:
        s.query("UPDATE $id SET max_attempts = 2", {"id": job_id})

    [first] = worker.run_once()  # the exception stays inside the worker

    assert first.state == "queued" and first.error == "ValueError: bad payload 7"
    row = _job(db, job_id)
    wait = (row["run_after"] - dt.datetime.now(dt.UTC)).total_seconds()
    assert jobs.BACKOFF_BASE_S - 2 < wait <= jobs.BACKOFF_BASE_S
    assert worker.run_once() == []  # not due before its back-off

    _make_due(db, job_id)
    [second] = worker.run_once()

    assert second.state == "failed"
    row = _job(db, job_id)
    assert row["state"] == "failed" and row["attempts"] == 2
    assert row["error"] == "ValueError: bad payload 7"
    assert jobs.counts(db)["failed"] == 1
    assert jobs.backoff(1) == 10 and jobs.backoff(3) == 40 and jobs.backoff(30) == 3600


def test_unknown_kind_fails_at_once(db):
    _clear_queue(db)
    with db.worker() as s:
        job_id = enqueue(s, "no_such_kind")
    [outcome] = Worker(db, handlers={}).run_once()
    assert outcome.state == "failed" and "no handler" in outcome.error
    assert _job(db, job_id)["attempts"] == 1


def test_a_claimed_job_cannot_be_claimed_again(db):
    _clear_queue(db)
    with db.worker() as s:
        job_id = enqueue(s, "note")
    first, second = Worker(db, name="a", handlers={}), Worker(db, name="b", handlers={})

    [claimed] = first.claim()

    assert claimed["id"] == job_id
    assert second.claim() == []
    # The conditional update itself, as a second worker that saw the job queued a moment
    # ago would send it: it matches nothing.
    with db.worker() as s:
        rows = s.rows(jobs._CLAIM, {"ids": [job_id], "claim": "other", "worker": "b",
                                    "lease": "600000ms"})
    assert rows == []
    row = _job(db, job_id)
    assert row["claimed_by"] == "a" and row["claim"] == claimed["claim"]


def test_two_worker_threads_run_each_job_once(db):
    _clear_queue(db)
    runs: list[int] = []
    lock = threading.Lock()

    def note(_db, payload):
        with lock:
            runs.append(payload["n"])

    with db.worker() as s:
        for n in range(40):
            enqueue(s, "note", {"n": n})
    workers = [Worker(db, name=f"w{i}", handlers={"note": note}, batch=3) for i in range(2)]
    threads = [threading.Thread(target=w.run_due) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(runs) == list(range(40))
    assert jobs.counts(db)["done"] == 40


def test_a_batch_runs_in_one_call_and_a_failing_batch_job_by_job(db):
    _clear_queue(db)
    calls, singles = [], []

    def batch(_db, payloads):
        calls.append([p["n"] for p in payloads])
        if any(p["n"] == 3 for p in payloads):
            raise ValueError("three")

    def single(_db, payload):
        singles.append(payload["n"])
        if payload["n"] == 3:
            raise ValueError("three")

    worker = Worker(db, handlers={"note": single}, batch_handlers={"note": batch}, batch=3)
    with db.worker() as s:
        for n in range(6):
            enqueue(s, "note", {"n": n})
            s.query("UPDATE job SET run_after = time::now() - 1s WHERE state = 'queued'")

    outcomes = worker.run_due()

    assert sorted(sum(calls, [])) == list(range(6)) and len(calls) == 2
    assert sorted(singles) == [3, 4, 5]  # the failing batch, again one by one
    states = {o.state for o in outcomes if o.state != "done"}
    assert states == {"queued"} and jobs.counts(db) == {"queued": 1, "running": 0,
                                                        "done": 5, "failed": 0}


def test_a_lapsed_claim_is_taken_over_and_the_old_holder_cannot_finish(db):
    _clear_queue(db)
    runs = []
    with db.worker() as s:
        job_id = enqueue(s, "note")
    dead = Worker(db, name="dead", handlers={}, lease=0.001)
    [stale] = dead.claim()
    _make_due(db, job_id)  # its lease lapsed: that worker died

    [outcome] = Worker(db, name="alive", handlers={"note": lambda *_: runs.append(1)}).run_once()

    assert outcome.state == "done" and runs == [1]
    assert _job(db, job_id)["attempts"] == 2
    with db.worker() as s:  # the dead worker's late answer changes nothing
        assert s.rows(jobs._DONE, {"id": job_id, "claim": stale["claim"]}) == []


def test_a_job_with_a_subject_is_queued_once(db):
    _clear_queue(db)
    with db.worker() as s:
        a = enqueue(s, "note", {"n": 1}, subject=RecordID("user", "x"))
        b = enqueue(s, "note", {"n": 2}, subject=RecordID("user", "x"))
    assert a == b
    assert jobs.counts(db)["queued"] == 1
    assert _job(db, a)["payload"] == {"n": 1}  # the waiting job is left as it was


def test_members_and_visitors_cannot_touch_jobs(db, make_user):
    make_user("ann")
    with db.member("ann") as s:
        assert s.rows("SELECT * FROM job") == []
        with pytest.raises(DatabaseError, match="permission"):
            s.query("RETURN fn::enqueue_job('note', 1, {})")
        try:
            s.query("CREATE job SET kind = 'note'")
        except DatabaseError:
            pass  # refused by the table either way: nothing is written
    with db.visitor() as s:
        assert s.rows("SELECT * FROM job") == []
    with db.system() as s:
        assert s.value("RETURN count(SELECT id FROM job WHERE kind = 'note')") == 0


def test_jobs_command_shows_counts_by_state(app, db):
    _clear_queue(db)
    with db.worker() as s:
        enqueue(s, "note")
        enqueue(s, "note")
        failed = enqueue(s, "boom")
    with db.system() as s:
        s.query("UPDATE $id SET state = 'failed', error = 'ValueError: boom'", {"id": failed})

    result = app.test_cli_runner().invoke(args=["jobs", "--failed"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == ["queued    2", "running   0", "done      0", "failed    1"]
    assert "ValueError: boom" in result.output


def test_worker_command_once_runs_due_jobs(app, db, make_user):
    dancer_with_styles(db, make_user)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 job(s) run."
    assert similar.embedding_of(db, "ann") is not None


def test_the_app_thread_runs_jobs_and_survives_a_failing_one(app, db, client):
    import time

    _clear_queue(db)
    seen = []
    from idance_web import job_handlers

    worker = job_handlers.init_app(app, start=True)
    worker.handlers = {"boom": lambda *_: 1 / 0, "note": lambda _db, p: seen.append(p["n"])}
    with db.worker() as s:
        enqueue(s, "boom")
        enqueue(s, "note", {"n": 1})
    try:
        assert worker._thread is None  # started by the first request, not at import
        client.get("/healthz")
        deadline = time.monotonic() + 20
        while seen != [1] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen == [1]
        assert worker._thread.is_alive()
        assert jobs.counts(db)["queued"] == 1  # the failed one waits for its retry
    finally:
        worker.stop()
    assert worker._thread is None


def test_a_move_alone_queues_no_embedding(db, make_user):
    dancer_with_styles(db, make_user)
    Worker(db).run_due()
    _clear_queue(db)
    with db.member("ann") as s:
        s.query("UPDATE profile SET location = [1.0, 0.0, 0.0] WHERE owner = user:ann")
    with db.system() as s:
        assert s.rows("SELECT id FROM job") == []
        assert s.rows("SELECT VALUE near FROM user_dance_style WHERE in = user:ann") != [None]
    with db.member("ann") as s:
        s.query("UPDATE user_dance_style SET level = 'professional' WHERE in = user:ann")
    with db.system() as s:
        assert s.rows("SELECT VALUE record::id(id) FROM job") == [
            ["embed_profile", RecordID("user", "ann")]]


def test_the_job_that_waited_longest_is_claimed_first(db):
    _clear_queue(db)
    with db.worker() as s:
        ids = [enqueue(s, "note", {"n": n}) for n in range(3)]
    with db.system() as s:
        for age, job_id in zip((5, 30, 10), ids):
            s.query("UPDATE $id SET run_after = time::now() - <duration> $age",
                    {"id": job_id, "age": f"{age}s"})
    worker = Worker(db, handlers={})
    assert [job["id"] for job in worker.claim(2)] == [ids[1], ids[2]]


def test_the_worker_command_queues_the_daily_jobs(tmp_path):
    """With a SurrealDB server no serving process queues the daily jobs: `idance worker` does."""
    import os
    import signal

    from idance_web import create_app
    from tests.fixtures.app import make_config
    from tests.fixtures.template import migrate

    app = create_app(make_config(backup_dir=str(tmp_path / "backups")))
    db = app.extensions["idance.db"]
    migrate(db)
    previous = signal.getsignal(signal.SIGTERM)
    stop = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM))  # as a supervisor would
    stop.start()
    try:
        result = app.test_cli_runner().invoke(args=["worker", "--poll", "0.1"])
        assert result.exit_code == 0, result.output
        with db.system() as s:
            queued = s.rows("SELECT VALUE [record::id(id)[0], state, run_after > time::now()] FROM "
                            "[job:['refresh_adults', 'daily'], job:['backup', 'daily']]")
    finally:
        stop.cancel()
        signal.signal(signal.SIGTERM, previous)
        db.close()
    # The refresh ran at once and queued its next run; the backup waits for its hour.
    assert sorted(queued) == [["backup", "queued", True], ["refresh_adults", "queued", True]]
