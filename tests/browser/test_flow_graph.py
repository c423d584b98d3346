"""The admin editor's flow graph in a real headless Chromium (issue 16): laid out by dagre
(dashboards/static/admin/flow-layout.js), for the shop flow and for a generated 200-node
flow: every node placed, no two boxes overlapping, no two edge labels overlapping, the hours
fan-out grouped, zoom and pan change the view, and a click on a node puts the editor's
cursor on that node's line. Screenshot: tests/artifacts/screenshots/flow-graph-shop.png."""

from __future__ import annotations

import pytest
import yaml

from tests.browser.conftest import SHOTS
from tests.browser.test_admin_flows import ADMIN, PASSWORD, live_app, page  # noqa: F401

pytestmark = pytest.mark.browser

BOXES = """() => {
  const svg = document.querySelector('#graph svg.flow-graph');
  const nodes = [...svg.querySelectorAll('g.node')].map(g => {
    const r = g.querySelector('rect');
    return {id: g.dataset.node, line: g.dataset.line ? Number(g.dataset.line) : null,
            x: +r.getAttribute('x'), y: +r.getAttribute('y'),
            w: +r.getAttribute('width'), h: +r.getAttribute('height')};
  });
  const labels = [...svg.querySelectorAll('text.edge-label')].map(t => {
    const b = t.getBBox(); return {id: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height};
  });
  return {engine: svg.dataset.layout, nodes, labels,
          groups: svg.querySelectorAll('g.group').length};
}"""


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap (touching edges do not count)."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (a["x"] < b["x"] + b["w"] - 0.5 and b["x"] < a["x"] + a["w"] - 0.5
                    and a["y"] < b["y"] + b["h"] - 0.5 and b["y"] < a["y"] + a["h"] - 0.5):
                found.append((a["id"], b["id"]))
    return found


def generated_flow(count: int) -> str:
    """A valid flow of `count` nodes: a tree of menus (three choices each) ending in says that
    hang up, every node reachable, plus a hand-over to a queue."""
    lines = ["flow: big", "start: n0", "human: to_queue", "queues:", "  support: {skill: support}",
             "nodes:", "  to_queue: {type: queue, queue: support, say: connecting}"]
    menus = (count - 1) // 3
    for i in range(count - 1):
        if i < menus:
            options = ", ".join(f"'{k}': {{goto: n{3 * i + k}}}" for k in (1, 2, 3))
            lines.append(f"  n{i}: {{type: menu, say: main_menu, options: {{{options}}}, "
                         "on_failure: to_queue}")
        else:
            lines.append(f"  n{i}: {{type: say, say: goodbye, next: bye}}")
    lines.append("  bye: {type: hangup}")
    return "\n".join(lines) + "\n"


def open_editor(tab, base: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}/admin/flows/shop")
    tab.fill("#username", ADMIN)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}/admin/flows/shop")
    tab.wait_for_selector("#graph svg.flow-graph g.node")


def cursor_line(tab) -> int:  # type: ignore[no-untyped-def]
    return tab.evaluate("() => { const s = document.getElementById('source'); "
                         "return s.value.slice(0, s.selectionStart).split('\\n').length; }")


def test_shop_graph_is_laid_out_by_dagre_and_a_click_finds_the_line(live_app, page):  # noqa: F811
    _, base = live_app
    open_editor(page, base)
    drawn = page.evaluate(BOXES)
    assert drawn["engine"].startswith("dagre ")
    assert overlapping(drawn["nodes"]) == []
    assert overlapping(drawn["labels"]) == []  # labels clear of each other
    assert drawn["groups"] == 1  # the hours nodes' closed/holiday/emergency fan-out
    text = page.input_value("#source")
    node_ids = [n["id"] for n in drawn["nodes"] if n["line"]]
    assert sorted(node_ids) == sorted(yaml.safe_load(text)["nodes"])  # each with its line
    target = next(n for n in drawn["nodes"] if n["id"] == "opening_hours")
    assert text.splitlines()[target["line"] - 1].strip() == "opening_hours:"
    page.locator('#graph g.node[data-node="opening_hours"]').click()
    assert cursor_line(page) == target["line"]
    scale = float(page.get_attribute("#graph svg.flow-graph", "data-scale"))
    page.get_by_role("button", name="Zoom in").click()
    assert float(page.get_attribute("#graph svg.flow-graph", "data-scale")) > scale
    before = page.get_attribute("#graph svg.flow-graph", "viewBox")
    page.locator("#graph svg.flow-graph").scroll_into_view_if_needed()
    box = page.locator("#graph svg.flow-graph").bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 150, steps=5)
    page.mouse.up()
    assert page.get_attribute("#graph svg.flow-graph", "viewBox") != before  # panned
    page.get_by_role("button", name="Fit").click()
    page.locator("#graph").screenshot(path=str(SHOTS / "flow-graph-shop.png"))


def test_a_200_node_flow_is_laid_out_without_overlaps(live_app, page):  # noqa: F811
    _, base = live_app
    open_editor(page, base)
    page.fill("#source", generated_flow(200))
    page.wait_for_function("() => document.querySelectorAll('#graph g.node').length >= 200",
                           timeout=60000)
    drawn = page.evaluate(BOXES)
    assert drawn["engine"].startswith("dagre ")
    assert len(drawn["nodes"]) == 201  # 199 menus and says, the queue and the hang-up
    assert overlapping(drawn["nodes"]) == []
    assert overlapping(drawn["labels"]) == []
    page.wait_for_function("() => document.querySelector('#graph svg.flow-graph').dataset.scale"
                           " !== '1.000'")  # the first view is set after the first frame
    view = page.locator("#graph svg.flow-graph").bounding_box()
    first = page.locator('#graph g.node[data-node="n0"] rect').bounding_box()
    assert view["y"] <= first["y"]  # the start is in the first view, not below it
    assert first["y"] + first["height"] <= view["y"] + view["height"]
    deep = next(n for n in drawn["nodes"] if n["id"] == "n150")
    page.evaluate("(id) => document.querySelector(`#graph g.node[data-node='${id}']`)"
                  ".dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}))",
                  "n150")
    assert cursor_line(page) == deep["line"]
    assert page.input_value("#source").splitlines()[deep["line"] - 1].startswith("  n150:")
    page.locator("#graph").screenshot(path=str(SHOTS / "flow-graph-200.png"))
