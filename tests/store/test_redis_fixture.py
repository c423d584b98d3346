from __future__ import annotations


def test_redis_fixture_is_a_real_isolated_server(redis):
    redis.set("ivr:probe", "1")
    assert redis.get("ivr:probe") == b"1"
    assert redis.connection_pool.connection_kwargs.get("db", 0) != 0
