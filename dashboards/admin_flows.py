"""Admin pages for call flows: list, edit with live validation, diff, graph, test call against
the draft, publish with a message, roll back. Admins only; CSRF on every POST.

Views stay thin: the checks, versions and convergence live in ivr/flows/publishing.py, the
graph in ivr/flows/graph.py and the test call in ivr/flows/trial.py.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import Any

import yaml
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from dashboards.admin_support import (
    author_name,
    check_csrf,
    csrf_token,
    ensure_schema,
    publisher,
    require_role,
)
from ivr.app.services import services
from ivr.domain.errors import Conflict, FlowErrors, IvrError, NotFound
from ivr.domain.flow.loader import content_version, load_flow
from ivr.domain.flow.yamlsource import load_data
from ivr.flows.graph import build_graph, graph_drawing
from ivr.flows.trial import run_trial

bp = Blueprint("admin_flows", __name__, url_prefix="/admin",
               template_folder="templates", static_folder="static/admin",
               static_url_path="/static/admin")

MAX_DRAFT = 200_000
TRAFFIC_DAYS = 7  # the graph is coloured by the last week's callers


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Any:
    return render_template("admin/error.html", message=str(exc)), 404


def _draft() -> str:
    data = request.get_json(silent=True) or {}
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or len(text) > MAX_DRAFT:
        abort(400, description=f"send JSON {{\"text\": \"...\"}} under {MAX_DRAFT} characters")
    return text


def _errors_json(errors: list[Any], path: str) -> list[dict[str, Any]]:
    return [{"line": e.line, "message": e.reason, "file": e.file,
             "here": e.file == path} for e in errors]


def _diff(old: str, new: str, old_label: str, new_label: str) -> list[str]:
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label,
                                     lineterm="", n=2))


@bp.get("/")
@require_role("admin")
def home() -> Any:
    return redirect(url_for("admin_flows.flows"))


@bp.get("/flows")
@require_role("admin")
def flows() -> Any:
    ensure_schema()
    pub = publisher()
    rows = [{"name": name, "versions": pub.versions(name),
             "hash": content_version(pub.live_text(name))} for name in pub.names()]
    return render_template("admin/flows.html", rows=rows, live=services().flows.versions())


@bp.get("/flows/<name>")
@require_role("admin")
def edit(name: str) -> Any:
    ensure_schema()
    pub = publisher()
    text = pub.live_text(name)
    return render_template("admin/edit.html", name=name, text=text, versions=pub.versions(name),
                           base_hash=content_version(text), csrf=csrf_token(),
                           traffic_url=traffic_url(text, name))


def traffic_url(text: str, name: str) -> str:
    """Where the editor reads the flow's traffic to colour its graph: the flow analytics of
    the last TRAFFIC_DAYS days for the flow's id (its `flow:`; steps are stored under it)."""
    try:
        data = load_data(text)
    except (yaml.YAMLError, IvrError, ValueError):  # a broken live file: the name will do
        data = None
    flow = str(data.get("flow") or name) if isinstance(data, dict) else name
    return url_for("reports_api.flows_report", flow=flow, days=TRAFFIC_DAYS)


@bp.post("/flows/<name>/check")
@require_role("admin")
def check(name: str) -> Any:
    """Live validation, diff against the published text and the graph, for the draft."""
    check_csrf()
    text, pub = _draft(), publisher()
    errors = pub.check(name, text)
    live = pub.live_text(name)
    return jsonify(ok=not errors, errors=_errors_json(errors, str(pub.path(name))),
                   diff=_diff(live, text, "published", "draft"),
                   graph=graph_drawing(build_graph(text)),
                   unreachable=build_graph(text).unreachable)


@bp.post("/flows/<name>/trial")
@require_role("admin")
def trial(name: str) -> Any:
    """A test call against the draft (nothing live is touched); see ivr/flows/trial.py."""
    check_csrf()
    text, pub = _draft(), publisher()
    data = request.get_json(silent=True) or {}
    answers = [a for a in data.get("answers", []) if isinstance(a, dict)][:60]
    try:
        flow = load_flow(text, str(pub.path(name)), pub.catalog(), pub.calendars())
    except FlowErrors as exc:
        return jsonify(ok=False, errors=_errors_json(exc.errors, str(pub.path(name)))), 422
    svc = services()
    caller = {"From": str(data.get("caller") or "+14155550123")[:20],
              "To": flow.numbers[0] if flow.numbers else ""}
    turns = run_trial(flow, answers, _trial_clock(data), caller, svc.calls.lookups.run,
                      _flags(data))
    return jsonify(ok=True, turns=[t.to_dict() for t in turns])


def _trial_clock(data: dict[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(float(data.get("at")), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _flags(data: dict[str, Any]) -> dict[str, str]:
    raw = data.get("flags")
    if not isinstance(raw, dict):
        return {}
    return {str(k)[:40]: str(v)[:40] for k, v in list(raw.items())[:10]}


@bp.post("/flows/<name>/publish")
@require_role("admin")
def publish(name: str) -> Any:
    check_csrf()
    ensure_schema()
    pub = publisher()
    text = request.form.get("text", "").replace("\r\n", "\n")
    try:
        version = pub.publish(name, text, author_name(), request.form.get("message", ""),
                              datetime.now(UTC), base_hash=request.form.get("base_hash"))
    except FlowErrors as exc:
        return render_template("admin/edit.html", name=name, text=text,
                               versions=pub.versions(name), base_hash=request.form.get(
                                   "base_hash", ""), csrf=csrf_token(),
                               errors=_errors_json(exc.errors, str(pub.path(name)))), 422
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin_flows.edit", name=name)), 303
    services().flows.reload()
    flash(f"Published {name} version {version.number}.", "ok")
    return redirect(url_for("admin_flows.edit", name=name), 303)


@bp.post("/flows/<name>/rollback/<int:number>")
@require_role("admin")
def rollback(name: str, number: int) -> Any:
    check_csrf()
    ensure_schema()
    try:
        version = publisher().rollback(name, number, author_name(), datetime.now(UTC))
    except FlowErrors as exc:
        flash(f"Version {number} no longer validates: {exc}", "error")
        return redirect(url_for("admin_flows.edit", name=name), 303)
    services().flows.reload()
    flash(f"Rolled back {name} to version {number} (now version {version.number}).", "ok")
    return redirect(url_for("admin_flows.edit", name=name), 303)


@bp.get("/flows/<name>/versions/<int:number>")
@require_role("admin")
def version(name: str, number: int) -> Any:
    ensure_schema()
    pub = publisher()
    old = pub.version(name, number)
    return render_template("admin/version.html", name=name, version=old, csrf=csrf_token(),
                           diff=_diff(old.content, pub.live_text(name), f"version {number}",
                                      "published"))
