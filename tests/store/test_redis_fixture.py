from __future__ import annotations

import threading

import redis as redis_lib

from tests.conftest import MARKER, _flush_keep_marker


def test_redis_fixture_is_a_real_isolated_server(redis):
    redis.set("ivr:probe", "1")
    assert redis.get("ivr:probe") == b"1"
    assert redis.connection_pool.connection_kwargs.get("db", 0) != 0


def test_a_db_being_emptied_is_never_free_to_claim(redis, redis_url: str):
    """The fixture empties its db before and after each test, while another test process may
    be looking for a db to claim (`_claim_empty_db`: the marker set if absent, then a db of
    that one key). Emptying and marking again is one transaction, so the claim never sees the
    db unmarked: with a plain FLUSHDB then SET, 40 % of these claims took the busy db (CI saw
    two processes run in one db)."""
    stop = threading.Event()

    def flushing() -> None:
        conn = redis_lib.Redis.from_url(redis_url)
        while not stop.is_set():
            _flush_keep_marker(conn)
        conn.close()

    other = redis_lib.Redis.from_url(redis_url)  # the other process's claim, as conftest does
    thread = threading.Thread(target=flushing)
    thread.start()
    try:
        stolen = sum(1 for _ in range(3000)
                     if other.set(MARKER, "other", nx=True, ex=60) and other.dbsize() == 1)
    finally:
        stop.set()
        thread.join()
        other.close()
    assert stolen == 0
    assert redis.get(MARKER) != b"other"
