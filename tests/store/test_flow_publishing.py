"""Flow publishing (ivr/flows/publishing.py) on a real database (SQLite and PostgreSQL) and a
real Redis: publish records a version and goes live, an invalid draft is refused at its line
and changes nothing, rollback restores any version, and processes converge."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy.orm import Session, sessionmaker

from ivr.app.queues_check import queue_problems
from ivr.config.queues import load_queues
from ivr.domain.errors import Conflict, FlowErrors
from ivr.flows.publishing import FlowPublisher
from ivr.flows.registry import FlowRegistry
from ivr.prompts.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
OLD_MENU = "say: shop_main_menu"
NEW_MENU = "say: shop_hours"


def copy_flows(target: Path) -> Path:
    shutil.copytree(REPO / "callflows", target, ignore=shutil.ignore_patterns("*.md"))
    return target


def make_publisher(directory: Path, sessions: sessionmaker[Session],
                   conn: redis_lib.Redis | None) -> FlowPublisher:
    catalog = load_catalog(REPO / "prompts" / "catalog.yaml")
    setup = load_queues(REPO / "queues.yaml")
    return FlowPublisher(directory, lambda: catalog, sessions, conn,
                         extra_check=lambda flows: queue_problems(flows, setup))


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    return copy_flows(tmp_path / "callflows")


@pytest.fixture
def publisher(flows_dir: Path, session_factory: sessionmaker[Session],
              redis: redis_lib.Redis) -> FlowPublisher:
    return make_publisher(flows_dir, session_factory, redis)


def registry_for(directory: Path) -> FlowRegistry:
    return FlowRegistry(directory, load_catalog(REPO / "prompts" / "catalog.yaml"))


def main_menu_prompt(registry: FlowRegistry) -> str:
    return registry.flow_by_id("shop").nodes["main_menu"].say[0].prompt_id  # type: ignore[attr-defined]


def test_publish_records_versions_and_goes_live(publisher: FlowPublisher,
                                                flows_dir: Path) -> None:
    registry = registry_for(flows_dir)
    original = publisher.live_text("shop")
    draft = original.replace(OLD_MENU, NEW_MENU, 1)
    version = publisher.publish("shop", draft, "alice", "menu says the hours", NOW)
    assert version.number == 2
    assert (flows_dir / "shop.yaml").read_text() == draft
    history = publisher.versions("shop")
    assert [(v.number, v.author, v.message) for v in history] == [
        (2, "alice", "menu says the hours"), (1, "system", "as found on disk")]
    assert history[1].content == original
    assert publisher.versions("utility") == []
    assert registry.reload() is True
    assert main_menu_prompt(registry) == "shop_hours"


def test_invalid_draft_is_refused_at_its_line_and_changes_nothing(
        publisher: FlowPublisher, flows_dir: Path) -> None:
    original = publisher.live_text("shop")
    draft = original.replace(OLD_MENU, "say: no_such_prompt", 1)
    line = draft.splitlines().index("    say: no_such_prompt") + 1
    errors = publisher.check("shop", draft)
    assert errors, "an unknown prompt id must be refused"
    assert errors[0].line == line
    assert "no_such_prompt" in errors[0].reason
    with pytest.raises(FlowErrors) as refused:
        publisher.publish("shop", draft, "alice", "oops", NOW)
    assert refused.value.errors[0].line == line
    assert (flows_dir / "shop.yaml").read_text() == original
    assert publisher.versions("shop") == []


def test_queue_typos_and_cross_file_clashes_are_refused(publisher: FlowPublisher) -> None:
    original = publisher.live_text("shop")
    bad_queue = original.replace("sales: {skill: sales}", "sales: {skill: salez}", 1)
    assert any("salez" in e.reason for e in publisher.check("shop", bad_queue))
    two_defaults = publisher.live_text("utility").replace("flow: utility",
                                                          "flow: utility\ndefault: true", 1)
    assert any("default: true" in e.reason for e in publisher.check("utility", two_defaults))
    assert publisher.check("shop", original) == []


def test_rollback_to_any_version(publisher: FlowPublisher, flows_dir: Path) -> None:
    original = publisher.live_text("shop")
    second = original.replace(OLD_MENU, NEW_MENU, 1)
    publisher.publish("shop", second, "alice", "v2", NOW)
    publisher.publish("shop", original.replace(OLD_MENU, "say: shop_welcome", 1), "bob", "v3",
                      NOW)
    back = publisher.rollback("shop", 1, "carol", NOW)
    assert (back.number, back.author) == (4, "carol")
    assert "version 1" in back.message
    assert (flows_dir / "shop.yaml").read_text() == original
    publisher.rollback("shop", 2, "carol", NOW)
    assert (flows_dir / "shop.yaml").read_text() == second
    assert [v.number for v in publisher.versions("shop")] == [5, 4, 3, 2, 1]


def test_stale_editor_cannot_overwrite_a_newer_publish(publisher: FlowPublisher) -> None:
    from ivr.domain.flow.loader import content_version

    original = publisher.live_text("shop")
    opened = content_version(original)
    publisher.publish("shop", original.replace(OLD_MENU, NEW_MENU, 1), "alice", "a", NOW,
                      base_hash=opened)
    with pytest.raises(Conflict):
        publisher.publish("shop", original.replace(OLD_MENU, "say: shop_welcome", 1), "bob",
                          "b", NOW, base_hash=opened)


def test_processes_converge_on_the_published_version(
        publisher: FlowPublisher, flows_dir: Path, tmp_path: Path,
        session_factory: sessionmaker[Session], redis_url: str) -> None:
    """Process B on another machine (its own checkout) and process C on this one (same
    folder) both serve the new menu after A publishes; B through Redis, C through the file."""
    other_dir = copy_flows(tmp_path / "other-machine")
    other = make_publisher(other_dir, session_factory, redis_lib.Redis.from_url(redis_url))
    other_registry, same_machine = registry_for(other_dir), registry_for(flows_dir)
    assert other.converge() == []  # nothing published yet: one GET, nothing written
    publisher.publish("shop", publisher.live_text("shop").replace(OLD_MENU, NEW_MENU, 1),
                      "alice", "new menu", NOW)
    assert same_machine.reload() is True
    assert main_menu_prompt(same_machine) == "shop_hours"
    assert main_menu_prompt(other_registry) == "shop_main_menu"
    assert other.converge() == ["shop"]
    assert other.converge() == []  # same generation: nothing to do
    assert other_registry.reload() is True
    assert main_menu_prompt(other_registry) == "shop_hours"
    assert other_registry.version("shop") == same_machine.version("shop")


def test_a_deployed_file_is_not_overwritten_by_an_older_publish(
        publisher: FlowPublisher, tmp_path: Path, session_factory: sessionmaker[Session],
        redis_url: str) -> None:
    """A machine whose file holds new content nobody published (a deploy) keeps it; one that
    missed two publishes catches up to the latest."""
    original = publisher.live_text("shop")
    behind = copy_flows(tmp_path / "behind")
    deployed = copy_flows(tmp_path / "deployed")
    deploy_text = original.replace(OLD_MENU, "say: shop_welcome", 1) + "\n# deployed\n"
    (deployed / "shop.yaml").write_text(deploy_text)
    publisher.publish("shop", original.replace(OLD_MENU, NEW_MENU, 1), "alice", "v2", NOW)
    latest = original.replace(OLD_MENU, "say: order_number", 1)
    publisher.publish("shop", latest, "alice", "v3", NOW)
    conn = redis_lib.Redis.from_url(redis_url)
    assert make_publisher(behind, session_factory, conn).converge() == ["shop"]
    assert (behind / "shop.yaml").read_text() == latest
    assert make_publisher(deployed, session_factory, conn).converge() == []
    assert (deployed / "shop.yaml").read_text() == deploy_text


def test_two_machines_publishing_from_the_same_version_conflict(
        publisher: FlowPublisher, tmp_path: Path, session_factory: sessionmaker[Session],
        redis_url: str) -> None:
    from ivr.domain.flow.loader import content_version

    original = publisher.live_text("shop")
    other = make_publisher(copy_flows(tmp_path / "other"), session_factory,
                           redis_lib.Redis.from_url(redis_url))
    opened = content_version(original)
    publisher.publish("shop", original.replace(OLD_MENU, NEW_MENU, 1), "alice", "a", NOW,
                      base_hash=opened)
    with pytest.raises(Conflict):  # its own file still holds the old text: the DB decides
        other.publish("shop", original.replace(OLD_MENU, "say: shop_welcome", 1), "bob", "b",
                      NOW, base_hash=opened)
    assert [v.number for v in publisher.versions("shop")] == [2, 1]
