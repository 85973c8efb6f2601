"""Real concurrency for the tests: work run at once from parallel threads against the
database, each thread with its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from django.db import connection


def at_once(work: Callable, items: Iterable) -> list:
    """`work(item)` for every item, each in its own thread, all released together; returns
    the answers in the items' order. Each thread closes its own database connection; the
    first error a thread raised is raised here, in the test's own thread."""
    items = list(items)
    barrier = threading.Barrier(len(items))
    answers: list = [None] * len(items)
    errors: list[BaseException] = []

    def run(index, item):
        try:
            barrier.wait()
            answers[index] = work(item)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return answers
