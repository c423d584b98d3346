"""The admin editor's flow graph (ivr/flows/graph.py) and test call (ivr/flows/trial.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ivr.domain.flow.loader import load_flow
from ivr.flows.graph import build_graph, graph_drawing
from ivr.flows.lookups import load_sources
from ivr.flows.trial import run_trial
from ivr.prompts.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]
SHOP = (REPO / "callflows" / "shop.yaml").read_text()
CATALOG = load_catalog(REPO / "prompts" / "catalog.yaml")
# A Tuesday at 10:00 in Los Angeles: the shop is open.
OPEN = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def test_graph_follows_menus_and_marks_unreachable_nodes() -> None:
    graph = build_graph(SHOP)
    assert graph.start == "greet"  # returning callers are told apart first
    assert ("main_menu", "opening_hours", "3") in graph.edges
    assert ("welcome", "choose_language", "next") in graph.edges
    assert graph.unreachable == []
    orphan = SHOP.replace("nodes:\n", "nodes:\n  orphan: {type: say, say: goodbye, "
                          "next: main_menu}\n", 1)
    graph = build_graph(orphan)
    assert graph.unreachable == ["orphan"]
    drawing = graph_drawing(graph)
    assert [n["id"] for n in drawing["nodes"] if n["unreachable"]] == ["orphan"]


def test_graph_survives_broken_yaml() -> None:
    assert build_graph("nodes: [unclosed").nodes == {}
    assert build_graph("just text").nodes == {}
    assert graph_drawing(build_graph("just text")) == {"nodes": [], "edges": [], "groups": []}


def test_graph_drawing_is_data_the_editor_draws_with_dom_calls() -> None:
    """The editor's graph (graph_drawing): flow text stays data, as written, for the page to
    put in text nodes; each node with the line of its key, for a click to jump to."""
    orphan = SHOP.replace("nodes:\n", "nodes:\n  '\"><img src=x>': {type: say, say: goodbye, "
                          "next: main_menu}\n", 1)
    graph = build_graph(orphan)
    drawing = graph_drawing(graph)
    evil = next(n for n in drawing["nodes"] if n["unreachable"])
    assert evil["id"] == '"><img src=x>'
    assert evil["label"] == '"><img src=x>'
    lines = orphan.splitlines()
    for node in drawing["nodes"]:
        if not node.get("hub"):
            assert lines[node["line"] - 1].strip().startswith(f"{node['id']}:".strip()) or \
                node["id"] == evil["id"], node


def test_hours_fan_out_goes_through_one_grouped_node() -> None:
    """shop.yaml's four `hours` nodes each branch closed/holiday/emergency to the same three
    nodes: drawn as four edges into one fan-out node and three out of it, in one group."""
    drawing = graph_drawing(build_graph(SHOP))
    assert len(drawing["groups"]) == 1
    group = drawing["groups"][0]
    hub = group["members"][0]
    assert sorted(group["members"][1:]) == ["after_hours", "emergency", "holiday"]
    into = sorted(e["source"] for e in drawing["edges"] if e["target"] == hub)
    assert into == ["to_billing", "to_priority", "to_sales", "to_support"]
    out = sorted((e["label"], e["target"]) for e in drawing["edges"] if e["source"] == hub)
    assert out == [("closed", "after_hours"), ("emergency", "emergency"),
                   ("holiday", "holiday")]
    assert not [e for e in drawing["edges"] if e["source"] == "to_sales"
                and e["label"] in ("closed", "holiday", "emergency")]
    assert ("to_sales", "sales_queue") in {(e["source"], e["target"]) for e in drawing["edges"]}


def test_trial_call_walks_the_draft_without_live_state() -> None:
    draft = SHOP.replace("say: shop_main_menu", "say: shop_hours", 1)
    flow = load_flow(draft, "shop.yaml", CATALOG)
    lookups = load_sources(REPO / "lookups.yaml")
    turns = run_trial(flow, [{"digits": "1"}], OPEN, {"From": "+14155550123"}, lookups.run)
    assert turns[0].waits_for == "keys"
    assert "Acme Outfitters" in turns[0].heard[0]
    assert any("open Monday to Friday" in h for h in turns[1].heard)  # the draft's new menu
    turns = run_trial(flow, [{"digits": "1"}, {"digits": "0"}], OPEN, {}, lookups.run)
    assert "joins queue 'support'" in turns[-1].waits_for


def test_trial_reads_operator_flags() -> None:
    flow = load_flow(SHOP, "shop.yaml", CATALOG)
    lookups = load_sources(REPO / "lookups.yaml")
    turns = run_trial(flow, [{"digits": "1"}, {"digits": "0"}], OPEN, {}, lookups.run,
                      {"emergency_closed": "on"})
    heard = " ".join(h for t in turns for h in t.heard)
    assert turns[-1].waits_for.startswith("records a voicemail"), heard
