"""Jobs queued by name (ivr/store/jobs.py) name real job functions: a renamed or moved job
fails here, not in a worker at run time."""

from __future__ import annotations

import importlib

import pytest

from ivr.store.jobs import JOB_NAMES


@pytest.mark.parametrize("name", JOB_NAMES)
def test_each_job_name_resolves_to_a_function(name: str) -> None:
    module, _, function = name.rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))
