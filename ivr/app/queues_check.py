"""Cross-check flows against the queue configuration: every queue a flow names must exist in
queues.yaml and every skill it asks for must be one some queue or agent has. Without this a
typo'd queue would only show up when a caller reached it (and got the fallback route).

Returns `FlowError`s at the line of the flow's `queues:` entry or queue node, so `ivr check`
and the flow registry report them like any other flow problem. Must not import Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.config.queues import QueueSetup
from ivr.domain.errors import FlowError
from ivr.domain.flow import model


def known_skills(setup: QueueSetup) -> set[str]:
    skills = {cfg.skill for cfg in setup.queues.values()}
    for agent in setup.agents:
        skills.update(agent.skills)
    return skills


def queue_problems(flows: Mapping[str, model.Flow], setup: QueueSetup) -> list[FlowError]:
    skills = known_skills(setup)
    problems: list[FlowError] = []
    for flow in flows.values():
        for ref in flow.queues.values():
            if ref.name not in setup.queues:
                problems.append(FlowError(flow.file, ref.line, (
                    f"queue {ref.name!r} is not in queues.yaml; add it there or use one of "
                    f"{', '.join(sorted(setup.queues))}")))
            if ref.skill and ref.skill not in skills:
                problems.append(FlowError(flow.file, ref.line, (
                    f"skill {ref.skill!r} of queue {ref.name!r}: no queue or agent in "
                    f"queues.yaml has it (known: {', '.join(sorted(skills))})")))
        for node in flow.nodes.values():
            if isinstance(node, model.QueueNode) and node.skill and node.skill not in skills:
                problems.append(FlowError(flow.file, node.line, (
                    f"node {node.id}: skill {node.skill!r}: no queue or agent in queues.yaml "
                    f"has it (known: {', '.join(sorted(skills))})")))
    return problems
