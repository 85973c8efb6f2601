import threading

import pytest

from feeds.importing import _read_ahead


def test_pages_come_in_order_and_all_of_them():
    assert list(_read_ahead(iter(range(10)))) == list(range(10))


def test_a_failure_of_the_feed_comes_after_the_pages_read_before_it():
    def pages():
        yield from (1, 2, 3)
        raise RuntimeError("feed down")

    seen = []
    with pytest.raises(RuntimeError, match="feed down"):
        for page in _read_ahead(pages()):
            seen.append(page)
    assert seen == [1, 2, 3]


def test_pages_are_read_in_another_thread_at_most_two_ahead():
    read = []
    reader_threads = set()

    def pages():
        for n in range(100):
            reader_threads.add(threading.current_thread())
            read.append(n)
            yield n

    pages_read = _read_ahead(pages(), depth=2)
    assert next(pages_read) == 0
    pages_read.close()  # the caller is done (or failed): the reading stops

    assert threading.current_thread() not in reader_threads
    assert len(read) <= 4  # the page handed over, two queued, one waiting to be
    assert not any(t.is_alive() for t in reader_threads)
