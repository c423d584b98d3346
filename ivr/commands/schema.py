"""`ivr schema [--file KIND]`: print the JSON Schema of call flow files (or of queues.yaml,
lookups.yaml, calendars.yaml), for editor completion and checks.

The schemas are generated from the declarations the loaders enforce: `ivr.domain.flow.schema`
for flows, `ivr.domain.config_formats` for the other files. They cannot express
cross-references (targets, prompts, queues, calendars) or YAML 1.1's traps: run `ivr check`.
"""

from __future__ import annotations

import json

import click

FILES = ("flow", "queues", "lookups", "calendars")


@click.command("schema")
@click.option("--file", "kind", type=click.Choice(FILES), default="flow", show_default=True,
              help="Which file's schema to print.")
def command(kind: str) -> None:
    """Print the JSON Schema of callflows/*.yaml or another config file (e.g. for
    yaml-language-server)."""
    if kind == "flow":
        from ivr.domain.flow.schema import json_schema

        click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
        return
    from ivr.domain import config_formats
    from ivr.domain.config_schema import json_schema as shape_schema

    shape = {"queues": config_formats.QUEUES_FILE, "lookups": config_formats.LOOKUPS_FILE,
             "calendars": config_formats.CALENDARS_FILE}[kind]
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "title": f"IVR {kind}.yaml", **shape_schema(shape)}
    click.echo(json.dumps(schema, indent=2, ensure_ascii=False))
