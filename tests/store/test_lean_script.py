"""The hot path's script calls (ivr/store/lean_script.py) on a real Redis: the same answers
as redis-py's Script, and every unusual case still works: a flushed script cache, a killed
connection, a script error, a fork, and the connection going back to the pool: after a while,
at the end of a request, when its thread ends or its store is dropped (issue 12)."""

from __future__ import annotations

import os
import threading
import time

import pytest
import redis as redis_lib

from ivr.store import lean_script, redis_connect
from ivr.store.lean_script import CommandBatch, HeldConnections, LeanScript

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


@pytest.mark.flushes_scripts
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


def in_use(pool: redis_lib.BlockingConnectionPool) -> int:
    """Connections taken from a blocking pool and not given back."""
    return len(pool._connections) - sum(1 for c in list(pool.pool.queue) if c is not None)


def wait_until(done, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_threads_that_end_hand_their_connections_back(redis_url: str, redis):  # noqa: ARG001
    """Issue 12: a thread per request, each running a script and ending. Before, every dead
    thread kept its connection, and a pool of 10 said "Too many connections" at the 11th."""
    client = redis_lib.Redis(connection_pool=redis_lib.BlockingConnectionPool.from_url(
        redis_url, max_connections=10, timeout=1))
    held = HeldConnections(client)
    script = LeanScript(held, INCR)
    script(["n"], [0])  # loaded (a NOSCRIPT on a fresh server hands its connection back)
    held.give_back()  # this thread's: only the dead threads' are counted below
    answers: list[int] = []
    for _ in range(40):
        thread = threading.Thread(target=lambda: answers.append(script(["n"], [1])))
        thread.start()
        thread.join()
    assert answers == list(range(1, 41))
    assert wait_until(lambda: in_use(client.connection_pool) == 0)
    assert len(client.connection_pool._connections) <= 2  # reused, not one per thread


def test_a_dropped_store_hands_its_connections_back(redis_url: str, redis):  # noqa: ARG001
    client = redis_connect.connect(redis_url, max_connections=4)
    held = HeldConnections(client)
    LeanScript(held, INCR)(["n"], [1])
    assert held.get() is not None
    assert in_use(client.connection_pool) == 1
    del held  # an ad-hoc store (CallStateStore(conn).load(...)) is dropped after its request
    assert wait_until(lambda: in_use(client.connection_pool) == 0)


def test_at_most_max_held_connections_are_held_and_the_rest_go_the_regular_way(
        redis_url: str, redis):  # noqa: ARG001
    client = redis_connect.connect(redis_url, max_connections=8)
    held = HeldConnections(client, max_held=2)
    script = LeanScript(held, INCR)
    script(["n"], [0])  # loaded
    held.give_back()
    together = threading.Barrier(5)
    holding: list[bool] = []

    def webhook() -> None:
        script(["n"], [1])
        holding.append(getattr(held._local, "hold", None) is not None)
        together.wait(10)  # all five at once: each would keep a connection if it could

    threads = [threading.Thread(target=webhook) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert int(redis.get("n")) == 5
    assert sorted(holding) == [False] * 3 + [True] * 2
    assert wait_until(lambda: in_use(client.connection_pool) == 0 and held.count.now == 0)


def test_give_back_returns_it_at_once_and_switched_off_nothing_is_held(redis_url: str, redis):
    client = redis_connect.connect(redis_url, max_connections=4)
    held = HeldConnections(client)
    script = LeanScript(held, INCR)
    script(["n"], [1])
    assert in_use(client.connection_pool) == 1
    held.give_back()  # what the end of a request does (ivr/app/services.py end_request)
    assert in_use(client.connection_pool) == 0
    assert held.count.now == 0
    held.give_back()  # twice is harmless
    off = HeldConnections(client, enabled=False)  # IVR_LEAN_REDIS=0
    assert LeanScript(off, INCR)(["n"], [1]) == int(redis.get("n")) == 2
    assert off.get() is None
    assert in_use(client.connection_pool) == 0


def test_end_request_hands_it_back_unless_kept_then_the_next_request_reuses_it(
        redis_url: str, redis, monkeypatch: pytest.MonkeyPatch):  # noqa: ARG001
    """IVR_LEAN_REDIS_KEEP=1: the thread keeps its connection for its next request, with no
    pool checkout (nor its poll for stale input) in between, and hands it back after KEEP_S,
    as a worker thread does; an error still hands it back at once."""
    client = redis_connect.connect(redis_url, max_connections=4)
    pool = client.connection_pool
    checkouts: list[int] = []
    get_connection = pool.get_connection
    monkeypatch.setattr(pool, "get_connection",
                        lambda *a, **k: (checkouts.append(1), get_connection(*a, **k))[1])
    plain = HeldConnections(client)
    script = LeanScript(plain, INCR)
    for _ in range(2):
        script(["n"], [1])
        plain.end_request()
        assert in_use(pool) == 0
    assert len(checkouts) == 2  # one per request

    kept = HeldConnections(client, keep=True)
    script = LeanScript(kept, INCR)
    checkouts.clear()
    first = kept.get()
    for _ in range(3):
        script(["n"], [1])
        kept.end_request()
        assert in_use(pool) == 1
        assert kept.get() is first
    assert len(checkouts) == 1
    assert int(redis.get("n")) == 5
    monkeypatch.setattr(lean_script, "KEEP_S", 0.0)
    second = kept.get()  # after KEEP_S: handed back and taken afresh, with the pool's checks
    assert len(checkouts) == 2
    assert in_use(pool) == 1
    with pytest.raises(redis_lib.ResponseError):
        LeanScript(kept, "return redis.error_reply('no')")([], [])
    assert in_use(pool) == 0
    assert kept.count.now == 0
    assert second is not None


def _reads() -> CommandBatch:
    batch = CommandBatch()
    batch.hgetall("h")
    batch.hgetall("a-string")  # WRONGTYPE: an error reply in its place
    batch.hgetall("missing")
    return batch


def _as_comparable(replies: list) -> list:
    return [(type(r).__name__, str(r)) if isinstance(r, Exception) else r for r in replies]


@pytest.mark.flushes_scripts
def test_a_script_with_reads_answers_what_redis_pys_pipeline_answers(held, redis):
    """The call-start webhook sends its reads after call_begin on the held connection
    (CallStateStore.step also=): replies parsed and errors in place, as the pipeline does."""
    redis.hset("h", mapping={"a": "1", "b": "2"})
    redis.set("a-string", "x")
    script = LeanScript(held, INCR)
    redis.script_load(INCR)
    pipe = redis.pipeline(transaction=False)
    pipe.evalsha(script.sha, 1, "n", 5)
    for command, options in _reads().commands:
        pipe.execute_command(*command, **options)
    expected = pipe.execute(raise_on_error=False)
    got = script.with_reads(["n"], [5], _reads().commands)
    assert got is not None
    assert _as_comparable(got[1:]) == _as_comparable(expected[1:])
    assert got[0] == expected[0] + 5
    assert got[1] == {b"a": b"1", b"b": b"2"}
    assert isinstance(got[2], redis_lib.ResponseError)
    redis.script_flush()  # the script's own error in its place too, the reads still read
    again = script.with_reads(["n"], [1], _reads().commands)
    assert isinstance(again[0], redis_lib.exceptions.NoScriptError)
    assert again[1] == {b"a": b"1", b"b": b"2"}
    assert script(["n"], [0]) == 10  # the connection is still in step (5 + 5; not run: 1)


def test_script_with_reads_leaves_it_to_the_pipeline_when_lean_is_off(redis):
    off = LeanScript(HeldConnections(redis, enabled=False), INCR)
    assert off.with_reads(["n"], [1], _reads().commands) is None
