"""followup.yaml from disk: load the rules and cross-check them against the call flows.

The adapter around the pure `ivr.domain.followup_rules`: reads the file (`IVR_FOLLOWUP_FILE`,
default followup.yaml beside queues.yaml) and checks that every survey question a rule names
is asked by some flow's survey node, so a typo'd question id (which would silently never open
a task) is refused with FILE:LINE like any flow problem. Used by `ivr check` and by the
outcome writer at start (which refuses to start on a broken file: events wait in Redis until
it is fixed, so no task is lost). Must not import Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ivr.domain.errors import FlowError
from ivr.domain.flow import model
from ivr.domain.followup_rules import FollowupRules, load_rules


def load_rules_file(path: Path) -> FollowupRules:
    """The rules in `path`; raises FlowErrors (FILE:LINE per problem) when malformed, and
    FileNotFoundError when the file is absent (callers decide whether that is allowed)."""
    return load_rules(Path(path).read_text(encoding="utf-8"), str(path))


def survey_questions(flows: Mapping[str, model.Flow]) -> set[str]:
    return {q.id for flow in flows.values() for node in flow.nodes.values()
            if isinstance(node, model.SurveyNode) for q in node.questions}


def rules_problems(rules: FollowupRules, flows: Mapping[str, model.Flow]) -> list[FlowError]:
    """Survey rules whose question no flow asks (empty when there are no flows to compare)."""
    if not flows:
        return []
    asked = survey_questions(flows)
    return [FlowError(rules.file, rule.line, (
        f"rule {rule.id}: survey question {rule.question!r} is not asked by any flow's survey "
        f"node; known: {', '.join(sorted(asked)) or 'none'}"))
        for rule in rules.rules if rule.question and rule.question not in asked]
