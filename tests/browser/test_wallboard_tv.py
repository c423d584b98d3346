"""The wallboard on a wall screen (`/wallboard?tv=1`, issue 16) in a real headless Chromium,
over HTTP, with the stream service beside the app and a real Redis: at 1920x1080 and
1280x720, with the demo's queues and with 8, the page does not scroll and every queue's
waiting count is on screen and large; more queues than fit take turns in pages; figures are
marked stale when the stream goes quiet, and not while it vouches for an unchanged board.
Screenshots (docs/pages.md) go to tests/artifacts/screenshots/wallboard-tv-*.png."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from flask import Flask

from tests.browser.conftest import SHOTS, LiveServer
from tests.browser.test_admin_flows import REPO, add_admin
from tests.browser.test_wallboard import hold_now, sign_in
from tests.stream_service import serve_pages_with_streams

pytestmark = pytest.mark.browser
SCREENS = [(1920, 1080), (1280, 720)]
EXTRA = ["claims", "returns", "renewals", "wholesale", "spanish"]  # 3 + 5 = 8 queues


def queues_file(tmp_path: Path, extra: list[str]) -> Path:
    """The shipped queues.yaml with `extra` queues (copies of billing, each its own skill)."""
    data = yaml.safe_load((REPO / "queues.yaml").read_text())
    for name in extra:
        data["queues"][name] = copy.deepcopy(dict(data["queues"]["billing"], skill=name))
    path = tmp_path / "queues.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def board_app(redis_url: str, tmp_path: Path, extra: list[str]) -> Iterator[tuple[Flask, str]]:
    from ivr import create_app

    app = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                      "public_base_url": "https://ivr.example.test",
                      "instance_dir": tmp_path / "instance",
                      "prompts_audio_dir": tmp_path / "no-audio",
                      "queues_file": queues_file(tmp_path, extra)})
    add_admin(app)
    server = LiveServer(app).start()
    streams = app.extensions["test_streams"] = serve_pages_with_streams(app, server.base)
    try:
        yield app, server.base
    finally:
        streams.stop()
        server.stop()


@pytest.fixture(params=[0, len(EXTRA)], ids=["demo-queues", "8-queues"])
def tv_app(request, redis_url: str, redis, tmp_path: Path):  # noqa: ARG001 - redis flushes
    yield from board_app(redis_url, tmp_path, EXTRA[:request.param])


def callers(app: Flask) -> dict[str, int]:
    """A different number of callers in every queue (0, 1, 2, ...), the first past 3 minutes."""
    engine = app.extensions["ivr"].queue_engine
    counts = {}
    for i, queue in enumerate(sorted(engine.queues)):
        for n in range(i):
            engine.join(f"CA{i:02d}{n:030d}", queue, time.time() - (200 if n == 0 else 5))
        counts[queue] = i
    return counts


ON_SCREEN = """(queue) => {
  const n = document.querySelector(`article[data-queue="${queue}"] [data-field="waiting"]`);
  if (!n) return null;
  const r = n.getBoundingClientRect();
  return {text: n.textContent, size: parseFloat(getComputedStyle(n).fontSize),
          inside: r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight
                  && r.right <= innerWidth};
}"""


@pytest.mark.parametrize(("width", "height"), SCREENS, ids=["1080p", "720p"])
def test_every_queue_on_one_screen_without_scrolling(tv_app, browser, width, height, request):
    app, base = tv_app
    counts = callers(app)
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15000)
    tab = context.new_page()
    sign_in(tab, base, "/wallboard?tv=1")
    last = max(counts, key=counts.__getitem__)
    tab.wait_for_function("([q, n]) => { const e = document.querySelector("
                          "`article[data-queue='${q}'] [data-field='waiting']`); "
                          "return e && e.textContent === String(n); }", arg=[last, counts[last]])
    name = f"wallboard-tv-{width}x{height}-{request.node.callspec.id.split('-')[0]}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"))  # the viewport: what the wall shows
    assert tab.evaluate("document.documentElement.scrollHeight <= innerHeight "
                        "&& document.documentElement.scrollWidth <= innerWidth")
    for queue, count in counts.items():
        seen = tab.evaluate(ON_SCREEN, queue)
        assert seen is not None, f"{queue} has no tile"
        assert seen["text"] == str(count), (queue, seen)
        assert seen["inside"], (queue, seen)
        # across a room: 77 px at 1080p is 5 cm on a 55" screen (a 2.5 cm numeral reads at 10 m)
        assert seen["size"] >= height / 14, (queue, seen)
    assert tab.locator("#page-of").text_content() == ""  # all fit: no pages to rotate
    assert tab.evaluate("document.body.classList.contains('dark')")  # dark by default on a TV
    # state in words as well as colour: support has a caller past 3 minutes; billing none
    support = tab.locator('article[data-queue="support"]')
    assert support.locator(".state").text_content() == "ALERT"
    assert "alert" in support.get_attribute("class")
    assert tab.locator('article[data-queue="billing"] .state').text_content() == "OK"
    assert tab.locator("#alerts li").count() >= 1
    assert tab.locator('#agent-states li[data-state="offline"] .num').text_content() == "4"
    context.close()


def test_more_queues_than_fit_take_turns(redis_url, redis, tmp_path, browser):  # noqa: ARG001
    many = EXTRA + [f"team{i}" for i in range(9)]  # 17 queues: more than 720p holds at the floor
    for _app, base in board_app(redis_url, tmp_path, many):
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        tab = context.new_page()
        sign_in(tab, base, "/wallboard?tv=1&rotate=3")
        tab.wait_for_selector("article[data-queue]")
        assert tab.locator("#page-of").text_content().endswith("of 3")
        first = set(tab.locator("article[data-queue]").evaluate_all(
            "tiles => tiles.map(t => t.dataset.queue)"))
        assert 0 < len(first) < 17
        tab.wait_for_function("() => document.getElementById('page-of').textContent"
                              ".startsWith('queues page 2')", timeout=10000)
        second = set(tab.locator("article[data-queue]").evaluate_all(
            "tiles => tiles.map(t => t.dataset.queue)"))
        assert second
        assert not second & first
        assert tab.evaluate("document.documentElement.scrollHeight <= innerHeight")
        context.close()


def test_figures_are_marked_stale_when_the_stream_goes_quiet(redis_url, redis, tmp_path,  # noqa: ARG001
                                                             browser):
    for app, base in board_app(redis_url, tmp_path, []):
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        tab = context.new_page()
        sign_in(tab, base, "/wallboard?tv=1")
        tab.wait_for_selector('article[data-queue="support"]')
        time.sleep(8)  # nothing changes: the stream vouches for the board, which stays fresh
        assert not tab.evaluate("document.body.classList.contains('stale')")
        app.extensions["test_streams"].stop()
        tab.wait_for_function("() => document.body.classList.contains('stale')", timeout=15000)
        assert tab.locator("#status").text_content().startswith("STALE")
        assert tab.get_attribute("#status", "class") == "stale"
        assert tab.locator('article[data-queue="support"] [data-field="waiting"]').is_visible()
        tab.screenshot(path=str(SHOTS / "wallboard-tv-stale.png"))
        app.extensions["test_streams"].start()
        tab.wait_for_function("() => !document.body.classList.contains('stale')", timeout=15000)
        context.close()


def test_the_wall_shows_the_callers_on_hold_now_and_the_longest_hold(redis_url, redis,  # noqa: ARG001
                                                                     tmp_path, browser):
    """The agent floor on the wall: how many callers agents have put on hold, and the longest
    hold, counting up with the boards, so a forgotten hold is seen across the room."""
    for app, base in board_app(redis_url, tmp_path, []):
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        context.set_default_timeout(15000)
        tab = context.new_page()
        sign_in(tab, base, "/wallboard?tv=1")
        held = tab.locator('#agent-states li[data-state="held"]')
        held.locator(".num").filter(has_text="0").wait_for()
        assert held.locator(".lbl").text_content() == "callers on hold"
        hold_now(app, "alice", 42)
        tab.wait_for_function(
            "() => { const li = document.querySelector('#agent-states li[data-state=\"held\"]');"
            " return li && li.querySelector('.num').textContent === '1'"
            " && /^caller on hold, longest 0:(4[2-9]|5\\d)$/.test("
            "li.querySelector('.lbl').textContent); }")
        assert "some" in (held.get_attribute("class") or "")
        assert tab.evaluate("document.documentElement.scrollHeight <= innerHeight")
        context.close()
