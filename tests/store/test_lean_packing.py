"""The call scripts' EVALSHA is packed by hiredis directly (ivr/store/lean_script.py `packed`):
the very bytes redis-py's own packer sends, for the arguments the call scripts send; an
argument hiredis cannot pack goes the regular way and fails as redis-py fails."""

from __future__ import annotations

import orjson
import pytest
import redis as redis_lib
from redis.connection import PythonRespSerializer

from ivr.store.lean_script import HeldConnections, LeanScript, packed

ECHO = "return {KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]}"


def test_the_bytes_are_redis_pys(redis: redis_lib.Redis) -> None:
    conn = redis.connection_pool.get_connection()
    try:
        command = ("EVALSHA", "a" * 40, 3, "ivr:call:CA1", "ivr:call:CA1:responses",
                   "ivr:events", 86400, "", 0, "<Response>caf\u00e9 & \u20ac</Response>",
                   orjson.dumps({"state": [1, "x"]}), 1.5, b"\xff\x00raw", -7, "", "k e y")
        assert packed(conn, command) == conn._command_packer.pack(*command)
        python = PythonRespSerializer(conn._buffer_cutoff, conn.encoder.encode)
        assert b"".join(packed(conn, command)) == b"".join(python.pack(*command))
    finally:
        redis.connection_pool.release(conn)


def test_an_argument_hiredis_cannot_pack_fails_as_in_redis_py(redis: redis_lib.Redis) -> None:
    script = LeanScript(HeldConnections(redis), ECHO)
    assert script(["k"], ["a", 1, b"b", 2.5]) == [b"k", b"a", b"1", b"b", b"2.5"]
    with pytest.raises(redis_lib.DataError):
        script(["k"], [object(), 1, 2, 3])
    with pytest.raises(redis_lib.DataError):
        redis.register_script(ECHO)(["k"], [object(), 1, 2, 3])
    assert script(["k"], ["a", 1, b"b", 2.5])[0] == b"k"  # the connection still works
