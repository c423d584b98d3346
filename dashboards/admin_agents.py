"""Admin page for queues, skills and agents: the queues queues.yaml defines (read here, edited
in the file and checked by `ivr check`), and the agents in the routing engine's store, whose
name, address and skills (1..5 per skill) an admin can add or change. Skills must be ones a
queue routes on, so an agent is never given a skill no caller can need; a phone number as
address passes the callbacks' toll-fraud rules, as in queues.yaml (ivr/config/queue_callbacks.py
`agent_address_problem`). Admins only, CSRF.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dashboards.admin_support import check_csrf, csrf_token, require_role
from ivr.app.services import services
from ivr.config.queue_callbacks import agent_address_problem
from ivr.config.queues import countries_called, load_queues
from ivr.domain.errors import NotFound
from ivr.domain.queueing import Agent

bp = Blueprint("admin_agents", __name__, url_prefix="/admin")

AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
ADDRESS = re.compile(r"^(\+[1-9]\d{6,14}|client:[A-Za-z0-9_.-]{1,40}|sip:[^\s<>\"']{3,80})$")


def _queues() -> Mapping[str, Any]:
    """The live engine's queues (what callers are routed by), not queues.yaml read again:
    a file edited and refused since start must not take this page down (issue 13, item 5).
    Without an engine (no Redis queue routing), the file's."""
    engine = services().queue_engine
    if engine is not None:
        return dict(engine.queues)
    return load_queues(services().config.queues_file).queues


@bp.get("/agents")
@require_role("admin")
def agents() -> Any:
    engine = services().queue_engine
    queues = _queues()
    skills = sorted({cfg.skill for cfg in queues.values()})
    return render_template("admin/agents.html", queues=queues, skills=skills,
                           agents=engine.agents.all() if engine else [], csrf=csrf_token(),
                           engine=engine is not None)


def _parse_skills(form: Any, known: set[str]) -> dict[str, int]:
    skills = {}
    for skill in known:
        raw = form.get(f"skill_{skill}", "").strip()
        if raw:
            level = int(raw) if raw.isdigit() else 0
            if not 1 <= level <= 5:
                raise ValueError(f"skill {skill}: give a level from 1 to 5, or leave it empty")
            skills[skill] = level
    if not skills:
        raise ValueError("give the agent at least one skill (level 1 to 5)")
    return skills


@bp.post("/agents")
@require_role("admin")
def save_agent() -> Any:
    check_csrf()
    engine = services().queue_engine
    form = request.form
    agent_id, address = form.get("id", "").strip(), form.get("address", "").strip()
    try:
        if engine is None:
            raise ValueError("no queues.yaml: queue routing is off")
        if not AGENT_ID.match(agent_id):
            raise ValueError("agent id: lower-case letters, digits, _ . - (up to 40)")
        if not ADDRESS.match(address):
            raise ValueError("address: +E.164 number, client:name or sip:uri")
        queues = _queues()
        problem = agent_address_problem(address, countries_called(queues))
        if problem:
            raise ValueError(f"address: {problem}")
        skills = _parse_skills(form, {cfg.skill for cfg in queues.values()})
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin_agents.agents"), 303)
    try:
        presence = engine.agents.get(agent_id).presence
    except NotFound:
        presence = Agent(agent_id, "", "", {}).presence
    name = form.get("name", "").strip()[:80] or agent_id
    engine.agents.upsert(Agent(agent_id, name, address, skills, presence), time.time())
    flash(f"Saved agent {agent_id} with skills "
          f"{', '.join(f'{k} {v}' for k, v in sorted(skills.items()))}.", "ok")
    return redirect(url_for("admin_agents.agents"), 303)
