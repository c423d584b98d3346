"""`ivr check [PATH ...]`: validate call flows the way the server loads them.

Thin: collects files (a folder means its `*.yaml`), loads them with the prompt catalogue via
`ivr.flows.load_files` (so cross-file checks run too), prints `ok: N flows` or one
`FILE:LINE: message` per problem and exits 1. Meant for editors, pre-commit and CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ivr.errors import ConfigError, FlowErrors


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
def command(paths: tuple[Path, ...], catalog: Path | None, queues_file: Path | None) -> None:
    """Check call flow files (default: callflows/); exit 1 listing FILE:LINE: problems."""
    from ivr.config import from_env
    from ivr.flow_queues import queue_problems
    from ivr.flows import load_files
    from ivr.prompt_catalog import load_catalog
    from ivr.queues import load_queues

    config = from_env()
    files = _files(paths or (config.flows_dir,))
    queues_path = queues_file or config.queues_file
    try:
        flows = load_files(files, load_catalog(catalog or config.prompts_catalog))
        if queues_path.exists():
            problems = queue_problems(flows, load_queues(queues_path))
            if problems:
                raise FlowErrors(problems)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except FlowErrors as exc:
        for error in sorted(exc.errors, key=lambda e: (e.file, e.line)):
            click.echo(str(error))
        sys.exit(1)
    click.echo(f"ok: {len(flows)} flows")
