"""Graph and vocabulary checks on a parsed flow; every problem is recorded, none raised here.

Checks: unknown targets, unknown queues and schedules, unknown languages in menu options,
names in conditions and templates outside the vocabulary, unreachable nodes, dead ends (a
non-waiting node with no next), loops that never wait for the caller, nodes with no way to
an end, and menus that cannot reach a human. The loader runs this after the schema checks
and raises everything together. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from ivr.domain.flow import model
from ivr.domain.flow.answers import digits_ok
from ivr.domain.flow.conditions import names_in
from ivr.domain.flow.templating import Template
from ivr.domain.flow.yamlsource import Problems

# Names every condition and template may read; flows add their own variables (set, input
# `store`, lookup `store`). Documented in callflows/README.md.
BUILT_IN_NAMES = ("caller", "flags", "history", "time", "language", "call")


def validate(flow: model.Flow, problems: Problems) -> None:
    """Add every problem to `problems`. After schema errors (some nodes were not built) only
    the per-node checks run: graph checks would report the missing nodes' consequences."""
    earlier = bool(problems.errors)
    _check_references(flow, problems)
    _check_vocabulary(flow, problems)
    if earlier:
        return
    _check_targets(flow, problems)
    if problems.errors:
        return  # the graph checks below assume every target exists
    reachable = _reach(flow, [flow.start, flow.human, model.FALLBACK])
    for node in _authored(flow):
        if node.id not in reachable:
            problems.add(node.line, f"node {node.id} is unreachable from start "
                                    f"({flow.start}); link to it or delete it")
    _check_dead_ends(flow, problems)
    _check_silent_loops(flow, problems)
    _check_exits(flow, problems)
    _check_humans(flow, problems)


def _authored(flow: model.Flow) -> list[model.Node]:
    return [n for n in flow.nodes.values() if not n.id.startswith("_")]


def _check_targets(flow: model.Flow, problems: Problems) -> None:
    for name, target in (("start", flow.start), ("human", flow.human)):
        if target not in flow.nodes:
            problems.add(flow.line, f"{name}: unknown node {target!r}")
    for node in flow.nodes.values():
        for target, line in node.edges():
            if target not in flow.nodes:
                problems.add(line, f"node {node.id}: unknown target {target!r}; "
                                   f"known nodes: {', '.join(sorted(_ids(flow)))}")


def _ids(flow: model.Flow) -> list[str]:
    return [n.id for n in _authored(flow)]


def _check_references(flow: model.Flow, problems: Problems) -> None:
    for node in flow.nodes.values():
        line = node.lines.get("queue", node.line)
        if isinstance(node, model.QueueNode) and node.queue not in flow.queues:
            problems.add(line, f"node {node.id}: unknown queue {node.queue!r}; declare it "
                               f"under queues: (known: {', '.join(flow.queues) or 'none'})")
        if isinstance(node, model.HoursNode) and node.schedule not in flow.schedules:
            problems.add(node.lines.get("schedule", node.line),
                         f"node {node.id}: unknown schedule {node.schedule!r}; declare it "
                         f"under hours: (known: {', '.join(flow.schedules) or 'none'})")
        if isinstance(node, model.SurveyNode) and node.sms_question and node.sms_question not in {
                q.id for q in node.questions}:
            problems.add(node.lines.get("sms_question", node.line),
                         f"node {node.id}: sms_question {node.sms_question!r} is not one of its "
                         f"questions ({', '.join(q.id for q in node.questions)})")
        if isinstance(node, model.MenuNode):
            for option in node.options:
                if option.language and option.language not in flow.languages:
                    problems.add(option.line, f"node {node.id}: language {option.language!r} "
                                              f"is not in languages: {list(flow.languages)}")


def variables(flow: model.Flow) -> set[str]:
    names = set(BUILT_IN_NAMES)
    for node in flow.nodes.values():
        if isinstance(node, model.InputNode | model.LookupNode):
            names.add(node.store)
        elif isinstance(node, model.SetNode):
            names.update(node.values)
    return names


def _templates(node: model.Node) -> Iterable[Template]:
    prompts = list(node.say)
    if isinstance(node, model.MenuNode | model.InputNode):
        prompts += [*node.invalid, *node.no_input]
    for prompt in prompts:
        yield from prompt.texts.values()
    if isinstance(node, model.LookupNode):
        yield from node.params.values()
    if isinstance(node, model.SetNode):
        yield from (v for v in node.values.values() if isinstance(v, Template))


def _check_vocabulary(flow: model.Flow, problems: Problems) -> None:
    known = variables(flow)
    for node in flow.nodes.values():
        unknown = {(p[0], t.source) for t in _templates(node) for p in t.names
                   if p[0] not in known}
        for name, source in sorted(unknown):
            problems.add(node.line, f"node {node.id}: unknown name {name!r} in {source!r}; "
                                    f"known: {sorted(known)}")
        for case in node.cases if isinstance(node, model.BranchNode) else ():
            for path in names_in(case.condition):
                if path[0] not in known:
                    problems.add(case.line, f"node {node.id}: unknown name {path[0]!r} in "
                                            f"condition {case.source!r}; known: "
                                            f"{sorted(known)}")


def _reach(flow: model.Flow, roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in flow.nodes]
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo.extend(t for t, _ in flow.nodes[node_id].edges() if t in flow.nodes)
    return seen


def _check_dead_ends(flow: model.Flow, problems: Problems) -> None:
    for node in _authored(flow):
        if isinstance(node, model.SayNode | model.SetNode) and not node.next:
            problems.add(node.line, f"node {node.id} ({node.type_name}) is a dead end: add "
                                    "next: <node>, or end the call with a hangup node")


def _check_silent_loops(flow: model.Flow, problems: Problems) -> None:
    """A cycle of nodes that never wait (say, set, branch, hours, goto) would spin forever."""
    silent = {n.id for n in flow.nodes.values() if not n.waits}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(node_id: str, path: list[str]) -> None:
        state[node_id] = 1
        path.append(node_id)
        for target, _ in flow.nodes[node_id].edges():
            if target not in silent:
                continue
            if state.get(target) == 1:
                cycle = path[path.index(target):]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    problems.add(flow.nodes[target].line, "loop without waiting for the "
                                 f"caller: {' -> '.join([*cycle, target])}; add a menu or "
                                 "input to the loop, or send one branch elsewhere")
            elif target not in state:
                visit(target, path)
        path.pop()
        state[node_id] = 2

    for node_id in sorted(silent):
        if node_id not in state:
            visit(node_id, [])


def _check_exits(flow: model.Flow, problems: Problems) -> None:
    """Every node must have some path to an end (hangup, queue, voicemail or transfer)."""
    reverse: dict[str, list[str]] = {}
    for node in flow.nodes.values():
        for target, _ in node.edges():
            reverse.setdefault(target, []).append(node.id)
    todo = [n.id for n in flow.nodes.values() if isinstance(n, model.TERMINAL_TYPES)]
    can_end: set[str] = set()
    while todo:
        node_id = todo.pop()
        if node_id not in can_end:
            can_end.add(node_id)
            todo.extend(reverse.get(node_id, []))
    for node in _authored(flow):
        dead_end = isinstance(node, model.SayNode | model.SetNode) and not node.next
        if node.id not in can_end and not dead_end:
            problems.add(node.line, f"node {node.id} can never reach a hangup, queue, "
                                    "voicemail or transfer: the caller would be trapped")


def _check_humans(flow: model.Flow, problems: Problems) -> None:
    if not any(isinstance(n, model.HUMAN_TYPES) for n in _reach_nodes(flow, flow.human)):
        problems.add(flow.line, f"human: {flow.human!r} never reaches a queue or transfer; "
                                "point it at a queue node")
    for node in _authored(flow):
        if isinstance(node, model.MenuNode) and not any(
                isinstance(n, model.HUMAN_TYPES) for n in _reach_nodes(flow, node.id)):
            problems.add(node.line, f"menu {node.id} has no way to a human: set human: true, "
                                    "or give an option or on_failure that leads to a queue")
        if isinstance(node, model.InputNode) and node.human and digits_ok(
                "0", node.min_length, node.max_length, node.checksum):
            problems.add(node.line, f"input {node.id}: a lone 0 is a valid entry here, so 0 "
                                    "cannot reach a person; set min_length: 2 or more, or "
                                    "human: false to keep 0 as an entry")


def _reach_nodes(flow: model.Flow, root: str) -> list[model.Node]:
    return [flow.nodes[n] for n in _reach(flow, [root])]
