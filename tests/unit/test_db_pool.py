"""The pool of connections: a block holds a link, nested blocks keep it, waiting threads are
served in turn."""

from __future__ import annotations

import threading
import time

from idance_web.db_pool import Pool


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_nested_hold_keeps_the_link_and_threads_get_their_own():
    pool = Pool(2)
    with pool.hold() as outer:
        with pool.hold() as inner:
            assert inner is outer
        seen = []
        thread = threading.Thread(target=lambda: seen.append(pool.hold().__enter__()))
        thread.start()
        thread.join(5)
        assert seen and seen[0] is not outer


def test_a_freed_link_goes_to_the_waiting_thread_not_back_to_the_one_that_freed_it():
    pool = Pool(1)
    order = []
    first = pool.hold()
    first.__enter__()

    def other():
        with pool.hold():
            order.append("other")

    thread = threading.Thread(target=other)
    thread.start()
    _wait_for(lambda: len(pool._waiting) == 1)
    first.__exit__(None, None, None)
    with pool.hold():  # asks again at once: the waiting thread was served first
        order.append("again")
    thread.join(5)
    assert order == ["other", "again"]


def test_the_link_freed_last_is_taken_first():
    pool = Pool(3)
    other = []

    def hold_and_free():
        with pool.hold() as link:
            other.append(link)

    with pool.hold() as mine:
        thread = threading.Thread(target=hold_and_free)
        thread.start()
        thread.join(5)
    assert other and other[0] is not mine
    with pool.hold() as again:  # freed after the other thread's: on top
        assert again is mine
