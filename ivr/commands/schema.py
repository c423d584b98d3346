"""`ivr schema`: print the JSON Schema of call flow files, for editor completion and checks.

The schema is generated from `ivr.domain.flow.schema`, the same declarations the loader
enforces. It cannot express cross-references (targets, prompts, queues): run `ivr check`.
"""

from __future__ import annotations

import json

import click


@click.command("schema")
def command() -> None:
    """Print the JSON Schema of callflows/*.yaml (e.g. for yaml-language-server)."""
    from ivr.domain.flow.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
