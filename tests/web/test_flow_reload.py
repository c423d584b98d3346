"""The running server picks up an edited flow on the next call, and refuses a broken edit
while the live flow keeps serving (issue: admins change flows safely)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml
from flask import Flask

from ivr import create_app
from ivr.config.settings import REPO_ROOT
from tests.web.conftest import web_settings
from tests.web.test_demo_flows import heard, walk


@pytest.fixture
def live_flows(redis_url: str, redis, tmp_path: Path) -> tuple[Flask, Path]:  # noqa: ARG001
    flows = tmp_path / "callflows"
    shutil.copytree(REPO_ROOT / "callflows", flows)
    lookups = yaml.safe_load((REPO_ROOT / "lookups.yaml").read_text())
    for spec in lookups["sources"].values():
        spec["path"] = str(REPO_ROOT / spec["path"])
    (tmp_path / "lookups.yaml").write_text(yaml.safe_dump(lookups))
    app = create_app(web_settings(redis_url, tmp_path, flows_dir=flows))
    return app, flows / "shop.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    time.sleep(0.01)  # a new mtime even on coarse file systems
    path.write_text(text.replace(old, new))


def test_valid_edit_is_heard_by_the_next_call(live_flows, caplog):
    app, shop = live_flows
    edit(shop, "say: shop_welcome", "say: shop_hours")
    leg = walk(app, "+14155550100", "press 1; press 3; press 1")
    assert heard(leg).startswith("We are open")


def test_edit_within_the_check_interval_is_heard_once_it_has_passed(live_flows):
    """IVR_FLOW_CHECK_EVERY (1 s): the files are looked at by the first call start after each
    interval, so an edit saved just after a call is heard by the next call a second later."""
    app, shop = live_flows
    assert app.config["IVR"].flow_check_every == 1.0
    walk(app, "+14155550100", "press 1; press 3; press 1")  # this call start looked
    edit(shop, "say: shop_welcome", "say: shop_hours")
    registry = app.extensions["ivr"].flows
    registry._check_due = time.monotonic() + 60  # the interval has not passed yet
    assert not heard(walk(app, "+14155550100", "press 1; press 3; press 1")).startswith(
        "We are open")
    registry._check_due = 0.0  # it has now
    assert heard(walk(app, "+14155550100", "press 1; press 3; press 1")).startswith(
        "We are open")


def test_broken_edit_is_refused_and_the_live_flow_keeps_serving(live_flows, caplog):
    app, shop = live_flows
    edit(shop, "goto: ask_order", "goto: no_such_node")
    leg = walk(app, "+14155550100", "press 1; press 1; press 10000008#; press 1")
    assert "has shipped" in heard(leg)  # the old flow answered
    refused = [r for r in caplog.records if "no_such_node" in r.getMessage()]
    assert refused
    assert "shop.yaml:" in refused[0].getMessage()
