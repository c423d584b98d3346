"""Self-service data sources for the flow's `lookup` node: CSV, HTTP JSON and SQL.

Owns reading `lookups.yaml` and running one lookup with a timeout. Every failure (source down,
timeout, bad data) becomes `{"ok": False, "error": ...}`, never an exception, because the flow
must take its fallback path and the caller must never hear an application error. "Not found"
is a success with `record: None`: the caller mistyped a number, the source is fine.

```yaml
sources:
  orders:   {type: csv,  path: data/orders.csv, key: order_number}
  billing:  {type: http, url: "https://crm.example/api/accounts/{account_number}", timeout: 2}
  outages:  {type: sql,  url: "postgresql+psycopg://...", pool_size: 4, timeout: 2,
             query: "SELECT ... WHERE postcode = :postcode"}
```

A lookup ends by the node's `timeout` (capped by the source's own): SQL sources enforce it in
the database and bound their connections (`ivr/flows/lookup_sql.py`; `pool_size` defaults to
IVR_LOOKUP_POOL_SIZE).
"""

from __future__ import annotations

import csv
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.domain.config_formats import LOOKUPS_FILE
from ivr.domain.config_schema import check_text
from ivr.domain.errors import ConfigError, ConfigFileErrors, FlowError
from ivr.domain.flow import model
from ivr.domain.flow.actions import Lookup
from ivr.flows.lookup_sql import DEFAULT_POOL_SIZE, SqlSource

log = logging.getLogger(__name__)

Result = dict[str, Any]


def _ok(record: Mapping[str, Any] | None) -> Result:
    return {"ok": True, "record": dict(record) if record is not None else None, "error": None}


def _failed(error: str) -> Result:
    return {"ok": False, "record": None, "error": error}


@dataclass
class CsvSource:
    path: Path
    key: str
    _rows: dict[str, dict[str, str]] = field(default_factory=dict)
    _mtime: float = -1.0

    def fetch(self, params: Mapping[str, str], timeout: float) -> Result:
        mtime = self.path.stat().st_mtime
        if mtime != self._mtime:  # re-read when the file changes, so edits need no restart
            with self.path.open(newline="", encoding="utf-8") as fh:
                self._rows = {row[self.key]: row for row in csv.DictReader(fh)}
            self._mtime = mtime
        return _ok(self._rows.get(str(params.get(self.key, ""))))


@dataclass
class HttpSource:
    url: str
    timeout: float = 3.0

    def fetch(self, params: Mapping[str, str], timeout: float) -> Result:
        quoted = {k: urllib.parse.quote(str(v), safe="") for k, v in params.items()}
        url = self.url.format(**quoted)
        try:
            with urllib.request.urlopen(url, timeout=min(timeout, self.timeout)) as resp:
                return _ok(json.loads(resp.read().decode("utf-8")))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return _ok(None)
            return _failed(f"HTTP {exc.code} from {url}")


Source = CsvSource | HttpSource | SqlSource


class LookupSources:
    """Runs `Lookup` actions against named sources. Unknown source names are a failed lookup."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = dict(sources)

    def run(self, lookup: Lookup) -> Result:
        source = self.sources.get(lookup.source)
        if source is None:
            log.error("lookup source %r is not configured in lookups.yaml", lookup.source)
            return _failed(f"unknown source {lookup.source}")
        try:
            return source.fetch(lookup.params, lookup.timeout)
        except Exception as exc:  # any failure takes the flow's fallback path; logged, not lost
            log.warning("lookup %s failed: %s", lookup.source, exc)
            return _failed(f"{type(exc).__name__}: {exc}")


def load_sources(path: Path, pool_size: int = DEFAULT_POOL_SIZE) -> LookupSources:
    """Read lookups.yaml; relative CSV paths are resolved against the file's folder. SQL
    sources get `pool_size` connections each unless they name their own. The file is checked
    against `LOOKUPS_FILE` first (ConfigFileErrors, FILE:LINE per unknown key, wrong type or
    missing CSV file)."""
    if not path.exists():
        return LookupSources({})
    text = path.read_text(encoding="utf-8")
    doc, found = check_text(text, str(path), LOOKUPS_FILE)
    missing = [FlowError(str(path), found.declared["source"][name],
                         f"sources.{name}: CSV file {spec['path']!r} does not exist (paths "
                         f"are relative to {path.parent})")
               for name, spec in (doc.get("sources") or {}).items()
               if spec.get("type") == "csv" and not (path.parent / spec["path"]).is_file()]
    if missing:
        raise ConfigFileErrors(missing)
    sources: dict[str, Source] = {}
    for name, spec in (doc.get("sources") or {}).items():
        kind = spec.get("type")
        if kind == "csv":
            sources[name] = CsvSource(path.parent / spec["path"], spec["key"])
        elif kind == "http":
            sources[name] = HttpSource(spec["url"], float(spec.get("timeout", 3.0)))
        elif kind == "sql":
            sources[name] = _sql_source(path, name, spec, pool_size)
        else:
            raise ConfigError(f"{path}: source {name!r} has unknown type {kind!r} "
                              "(use csv, http or sql)")
    return LookupSources(sources)


def source_problems(flows: Mapping[str, model.Flow], sources: LookupSources,
                    lookups_file: str = "lookups.yaml") -> list[FlowError]:
    """Lookup nodes naming a source lookups.yaml does not declare, or a CSV source without
    its key column among their `params`, at the node's line (the caller would otherwise take
    the failure path, or hear "not found", on every call)."""
    problems = []
    for flow in flows.values():
        for node in flow.nodes.values():
            if isinstance(node, model.LookupNode):
                problem = _source_problem(node, sources, lookups_file)
                if problem:
                    problems.append(FlowError(flow.file, node.line, problem))
    return problems


def _source_problem(node: model.LookupNode, sources: LookupSources,
                    lookups_file: str) -> str | None:
    source = sources.sources.get(node.source)
    if source is None:
        return (f"node {node.id}: lookup source {node.source!r} is not in {lookups_file}; "
                f"known: {', '.join(sorted(sources.sources)) or 'none'}")
    if isinstance(source, CsvSource) and source.key not in node.params:
        return (f"node {node.id}: source {node.source!r} finds rows by {source.key!r}; add "
                f"it to params: {{{source.key}: ...}}")
    return None


def _sql_source(path: Path, name: str, spec: Mapping[str, Any], pool_size: int) -> SqlSource:
    where = f"{path}: source {name!r}"
    try:
        size = int(spec.get("pool_size", pool_size))
        timeout = float(spec["timeout"]) if spec.get("timeout") is not None else None
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: pool_size must be a whole number and timeout a number "
                          "of seconds") from None
    if size < 1 or (timeout is not None and timeout <= 0):
        raise ConfigError(f"{where}: pool_size must be at least 1 and timeout above 0")
    return SqlSource(spec["url"], spec["query"], pool_size=size, timeout=timeout)
