"""Racing calls for the concurrency tests: each in a thread of its own, all released at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(calls: list[Callable[[], Any]], *, expected: tuple[type[BaseException], ...] = ()) -> list:
    """The results of `calls` run at the same moment (a barrier); an exception of `expected` is a
    result, any other fails the thread. Each thread closes its database connection."""
    barrier, results = threading.Barrier(len(calls)), []

    def run(call):
        barrier.wait()
        try:
            results.append(call())
        except expected as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
