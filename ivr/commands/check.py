"""`ivr check [PATH ...]`: validate call flows the way the server loads them, and the
follow-up rules the way the outcome writer loads them.

Thin: collects files (a folder means its `*.yaml`), loads them with the prompt catalogue via
`ivr.flows.load_files` (so cross-file checks run too), queues.yaml's `hold_audio:` settings,
then followup.yaml (`--followup`,
default IVR_FOLLOWUP_FILE or the repository's; its survey questions must be asked by the
flows), prints `ok: N flows` and `ok: N follow-up rules (FILE)` or one `FILE:LINE: message`
per problem and exits 1; queues.yaml's callback and business settings are checked too
(ivr/queue_callbacks.py, FILE:LINE). Meant for editors, pre-commit and CI.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from ivr.errors import ConfigError, FlowError, FlowErrors

_FILE_LINE = re.compile(r"^\S+:\d+: ")


def _files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Prompt catalogue YAML.  [default: prompts/catalog.yaml]")
@click.option("--queues", "queues_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Queue configuration the flows' queues must exist in. "
              "[default: queues.yaml]")
@click.option("--followup", "followup_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Follow-up rules to check (skipped when absent). "
              "[default: followup.yaml]")
def command(paths: tuple[Path, ...], catalog: Path | None, queues_file: Path | None,
            followup_file: Path | None) -> None:
    """Check call flow files (default: callflows/) and followup.yaml; exit 1 listing
    FILE:LINE: problems."""
    from ivr.config import from_env

    config = from_env()
    files = _files(paths or (config.flows_dir,))
    try:
        flows, errors = _check_flows(files, catalog or config.prompts_catalog,
                                     queues_file or config.queues_file)
        rules, rule_errors = _check_followup(followup_file or config.followup_file, flows)
        boards = _check_wallboard(queues_file or config.queues_file)
        holds = _check_hold_audio(queues_file or config.queues_file,
                                  (catalog or config.prompts_catalog).parent, config)
    except ConfigError as exc:  # FILE:LINE: first when the message has one, like a flow's
        click.echo(str(exc) if _FILE_LINE.match(str(exc)) else f"error: {exc}", err=True)
        sys.exit(1)
    if errors or rule_errors or holds:
        for error in sorted([*errors, *rule_errors, *holds], key=lambda e: (e.file, e.line)):
            click.echo(str(error))
        sys.exit(1)
    click.echo(f"ok: {len(flows)} flows")
    if rules is not None:
        click.echo(f"ok: {len(rules.rules)} follow-up rules ({rules.file})")
    if boards:
        click.echo(f"ok: wallboard thresholds for {boards} queues")


def _check_wallboard(queues_path: Path) -> int:
    """The `wallboard:` section of queues.yaml (dashboards/wallboard_config.py); raises
    ConfigError naming the key and the fix. Returns the number of queues it covers."""
    if not queues_path.exists():
        return 0
    from dashboards.wallboard_config import load_thresholds
    from ivr.queues import load_queues

    return len(load_thresholds(queues_path, sorted(load_queues(queues_path).queues)))


def _check_hold_audio(queues_path: Path, prompts_dir: Path, config: Any) -> list[FlowError]:
    """Each queue's `hold_audio:` (ivr/hold_audio.py): a file under the prompts folder that
    exists, is 8 kHz mono WAV and fits one hold loop, or an https URL."""
    if not queues_path.exists():
        return []
    from ivr.hold_audio import hold_audio_problems

    return hold_audio_problems(queues_path, prompts_dir, float(config.extra.get("hold_pause", 15)))


def _check_flows(files: list[Path], catalog: Path,
                 queues_path: Path) -> tuple[dict[str, Any], list[FlowError]]:
    from ivr.flow_queues import queue_problems
    from ivr.flows import load_files
    from ivr.prompt_catalog import load_catalog
    from ivr.queues import load_queues

    try:
        flows = load_files(files, load_catalog(catalog))
    except FlowErrors as exc:
        return {}, exc.errors
    problems = queue_problems(flows, load_queues(queues_path)) if queues_path.exists() else []
    return flows, problems


def _check_followup(path: Path, flows: dict[str, Any]) -> tuple[Any, list[FlowError]]:
    from ivr.followup import load_rules_file, rules_problems

    if not path.exists():
        return None, []
    try:
        rules = load_rules_file(path)
    except FlowErrors as exc:
        return None, exc.errors
    return rules, rules_problems(rules, flows)
