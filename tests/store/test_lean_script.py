"""The hot path's script calls (ivr/store/lean_script.py) on a real Redis: the same answers
as redis-py's Script, and every unusual case still works: a flushed script cache, a killed
connection, a script error, a fork, and the connection going back to the pool."""

from __future__ import annotations

import os
import time

import pytest
import redis as redis_lib

from ivr.store import lean_script
from ivr.store.lean_script import HeldConnections, LeanScript

INCR = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


@pytest.fixture
def held(redis: redis_lib.Redis) -> HeldConnections:
    return HeldConnections(redis)


def test_same_answer_as_redis_py_and_one_connection_per_thread(held, redis):
    a, b = LeanScript(held, INCR), LeanScript(held, "return {KEYS[1], ARGV[1]}")
    assert a(["n"], [2]) == 2
    assert b(["k"], ["v"]) == redis.register_script("return {KEYS[1], ARGV[1]}")(["k"], ["v"])
    assert a(["n"], [3]) == 5
    assert len(redis.connection_pool._in_use_connections) == 1  # both scripts share it


def test_a_flushed_script_cache_is_loaded_again(held, redis):
    script = LeanScript(held, INCR)
    assert script(["n"], [1]) == 1
    redis.script_flush()
    assert script(["n"], [1]) == 2
    assert script(["n"], [1]) == 3


def test_a_killed_connection_falls_back_to_redis_pys_retry(held, redis):
    script = LeanScript(held, INCR)
    assert script(["n"], [1]) == 1
    mine = held.get()
    mine.send_command("CLIENT", "ID")
    client_id = mine.read_response()
    assert redis.client_kill_filter(_id=client_id) == 1  # from another connection of the pool
    assert script(["n"], [1]) == 2  # answered, through the regular path
    assert script(["n"], [1]) == 3  # and the next call has a fresh connection


def test_a_script_error_is_raised_and_the_connection_stays_usable(held):
    broken = LeanScript(held, "return redis.call('NOSUCHCOMMAND')")
    with pytest.raises(redis_lib.ResponseError):
        broken([], [])
    assert LeanScript(held, INCR)(["n"], [4]) == 4


def test_the_connection_goes_back_to_the_pool_after_a_while(held, redis,
                                                            monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(lean_script, "KEEP_S", 0.5)
    script = LeanScript(held, INCR)
    script(["n"], [1])  # loaded (a NOSCRIPT on a fresh server hands its connection back)
    pool = redis.connection_pool
    released = []
    release = pool.release
    monkeypatch.setattr(pool, "release", lambda c: (released.append(c), release(c)))
    script(["n"], [1])
    assert released == []  # kept between calls close together
    first = held.get()
    time.sleep(0.7)
    assert script(["n"], [1]) == 3
    assert released == [first]  # handed back, so the pool's own checks ran on taking it again


def test_a_forked_child_never_uses_its_parents_socket(held):
    script = LeanScript(held, INCR)
    script(["n"], [1])
    parent_conn = held.get()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own connection, and the right answer
        try:
            ok = script(["n"], [10]) == 11 and held.get() is not parent_conn
        except BaseException:
            ok = False
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert script(["n"], [1]) == 12  # the parent's connection still answers in step
