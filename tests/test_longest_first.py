"""The order bin/dev test's xdist processes take files in (tests/longest_first.py): longest
first, each file's tests together and in their order, nothing dropped."""

from __future__ import annotations

from types import SimpleNamespace

from tests.longest_first import (
    MEASURED_SECONDS,
    SECONDS_PER_TEST,
    expected_seconds,
    longest_files_first,
)


def items(*nodeids: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(nodeid=nodeid) for nodeid in nodeids]


def test_measured_files_go_first_and_each_file_stays_together_in_order():
    collected = items("tests/a.py::one", "tests/a.py::two", "tests/e2e/test_demo_command.py::t",
                      "tests/b.py::x[1]", "tests/e2e/test_queue_calls.py::first",
                      "tests/b.py::x[2]", "tests/e2e/test_queue_calls.py::second")
    ordered = [item.nodeid for item in longest_files_first(collected)]
    assert ordered == ["tests/e2e/test_demo_command.py::t",
                       "tests/e2e/test_queue_calls.py::first",
                       "tests/e2e/test_queue_calls.py::second",
                       "tests/a.py::one", "tests/a.py::two",  # a tie keeps collection order
                       "tests/b.py::x[1]", "tests/b.py::x[2]"]


def test_a_file_of_many_tests_counts_their_usual_cost():
    assert expected_seconds("tests/unmeasured.py", 100) == 100 * SECONDS_PER_TEST
    demo = "tests/e2e/test_demo_command.py"
    assert expected_seconds(demo, 1) == MEASURED_SECONDS[demo]
