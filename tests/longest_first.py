"""The order in which pytest-xdist hands out test files in `bin/dev test` (`--dist loadfile`):
the longest files first, so that neither process is left alone with a long file at the end
of a pass while the other has finished (longest-processing-time-first scheduling).

By default xdist hands out the files with the most tests first (`--loadscope-reorder`). That
put the one-test files last: `ivr demo`'s single 50 s test, the shift, the sentinel failover,
the demo floor. One process ran them alone while the other sat idle. bin/dev passes
`--no-loadscope-reorder`, and tests/conftest.py sorts the collected tests by `expected_seconds`
in each xdist worker (every worker sorts alike, as xdist requires).

The figures only order files. A file missing here, or a figure gone out of date, costs some
wall time, never a test: every collected test still runs, and a file's tests stay together
and in their own order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

# Seconds per file, summed from `--durations` of a CI run (pass 1, two processes; 2026-12-03),
# for files that took 3 s or more. Refresh from a run's `PYTEST_ADDOPTS=--durations=200` when
# files grow; the order only has to be roughly right.
MEASURED_SECONDS = {
    "tests/e2e/test_followup_calls.py": 54,
    "tests/e2e/test_demo_command.py": 52,
    "tests/e2e/test_queue_calls.py": 46,
    "tests/browser/test_softphone_calls.py": 38,
    "tests/browser/test_wallboard_tv.py": 32,
    "tests/browser/test_shift.py": 30,
    "tests/e2e/test_callback_fraud.py": 28,
    "tests/e2e/test_redis_sentinel.py": 26,
    "tests/e2e/test_callback_floor.py": 25,
    "tests/bench/test_held_bench.py": 24,
    "tests/live/test_stream_service.py": 22,
    "tests/browser/test_softphone.py": 19,
    "tests/e2e/test_demo_floor.py": 18,
    "tests/store/test_lookup_timeouts.py": 16,
    "tests/dashboards/test_admin_flows.py": 16,
    "tests/bench/test_abuse_bench.py": 16,
    "tests/store/test_flow_rollups.py": 15,
    "tests/browser/test_wallboard.py": 15,
    "tests/e2e/test_floor_calls.py": 14,
    "tests/e2e/test_cluster_slots.py": 12,
    "tests/browser/test_admin_flows.py": 11,
    "tests/privacy/test_log_masking.py": 10,
    "tests/web/test_body_limits.py": 9,
    "tests/scaleout/test_two_web_servers.py": 9,
    "tests/e2e/test_connection_bounds.py": 9,
    "tests/browser/test_worklist.py": 8,
    "tests/browser/test_page_security.py": 8,
    "tests/browser/test_demo_phone.py": 8,
    "tests/browser/test_accessibility.py": 8,
    "tests/web/test_secret_key.py": 8,  # pass 2: gunicorn workers sharing the key
    "tests/privacy/test_agent_call_recordings.py": 7,
    "tests/dashboards/test_login_limits.py": 7,
    "tests/browser/test_flow_graph.py": 7,
    "tests/web/test_form_parse.py": 6,
    "tests/live/test_streams_command.py": 6,
    "tests/e2e/test_wallboard_streams.py": 6,
    "tests/e2e/test_compose_redis_password.py": 6,
    "tests/dashboards/test_recording_control.py": 6,
    "tests/privacy/test_transcription_failure.py": 5,
    "tests/e2e/test_recorded_calls.py": 5,
}
SECONDS_PER_TEST = 0.3  # a test's usual cost (most build an app): the estimate for the rest


def expected_seconds(path: str, tests: int) -> float:
    """A file's expected run time: its measured seconds, at least its tests' usual cost."""
    return max(MEASURED_SECONDS.get(path, 0.0), tests * SECONDS_PER_TEST)


def longest_files_first(items: Sequence[pytest.Item]) -> list[pytest.Item]:
    """`items` with the files in descending expected time; ties keep the collection order,
    and each file's tests stay together and in their order (module fixtures start once)."""
    paths = [item.nodeid.split("::", 1)[0] for item in items]
    counts = Counter(paths)
    first_seen = {path: i for i, path in reversed(list(enumerate(paths)))}
    keyed = sorted(range(len(items)), key=lambda i: (
        -expected_seconds(paths[i], counts[paths[i]]), first_seen[paths[i]], i))
    return [items[i] for i in keyed]
