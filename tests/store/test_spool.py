"""The local spool (ivr/outcomes/spool.py): durable lines, applied in order, kept when applying
fails,
taken over from a process that died."""

from __future__ import annotations

import os
import time

from ivr.outcomes.spool import STALE_CLAIM, Spool


def test_records_are_applied_in_order_and_a_failure_keeps_the_rest(tmp_path):
    spool = Spool(tmp_path / "spool")
    for i in range(4):
        spool.put({"kind": "call_ended", "call": f"CA{i}", "at": float(i)})
    seen: list[str] = []

    def flaky(record):
        if record["call"] == "CA2" and len(seen) < 3:
            seen.append("fail")
            raise ConnectionError("redis is away")
        seen.append(record["call"])

    assert spool.drain(flaky) == 2
    assert seen == ["CA0", "CA1", "fail"]
    assert spool.pending()
    assert spool.drain(flaky) == 2
    assert seen[-2:] == ["CA2", "CA3"]
    assert not spool.pending()
    assert spool.drain(flaky) == 0


def test_a_file_left_by_a_dead_process_and_a_stale_claim_are_taken_over(tmp_path):
    spool = Spool(tmp_path)
    (tmp_path / "otherhost-999.jsonl").write_text('{"call":"CA1"}\n{"call":"CA2"}\n{torn')
    claimed = tmp_path / "abc.draining"
    claimed.write_text('{"call":"CA3"}\n')
    fresh = tmp_path / "def.draining"  # a live process is draining this one: leave it
    fresh.write_text('{"call":"CA4"}\n')
    old = time.time() - STALE_CLAIM - 5
    os.utime(claimed, (old, old))
    calls: list[str] = []
    assert spool.drain(lambda r: calls.append(r["call"])) == 3
    assert sorted(calls) == ["CA1", "CA2", "CA3"]
    assert [p.name for p in tmp_path.iterdir()] == ["def.draining"]
