"""Admin page for prompts: every text per language, edit a text (validated against every live
flow, previous catalogue backed up), preview it with TTS, upload a recording (converted with
pydub to 8 kHz mu-law). The work is in ivr/prompts/editing.py; admins only, CSRF on POSTs.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from dashboards.admin_support import check_csrf, csrf_token, require_role
from ivr.app.body_limits import body_limit
from ivr.app.services import services
from ivr.domain.errors import ConfigError, FlowErrors, NotFound
from ivr.flows.registry import flow_files, load_files
from ivr.prompts.audio import DEFAULT_VOICES, PromptAudioError, read_manifest, text_digest
from ivr.prompts.catalog import PromptCatalog, load_catalog
from ivr.prompts.editing import (
    MAX_UPLOAD_BYTES,
    preview_tts,
    save_recording,
    set_prompt_text,
)

bp = Blueprint("admin_prompts", __name__, url_prefix="/admin")
# The recording plus the form around it (CSRF token, boundaries): enforced by Werkzeug while
# the upload streams in, so an oversize one gets 413 before it fills a temporary file.
UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


def _catalog() -> PromptCatalog:
    return load_catalog(services().config.prompts_catalog)


def _check_flows(catalog: PromptCatalog) -> None:
    svc = services()
    flows = load_files(flow_files(svc.config.flows_dir), catalog)
    extra = getattr(svc.flows, "extra_check", None)
    problems = extra(flows) if extra else []
    if problems:
        raise FlowErrors(problems)


@bp.get("/prompts")
@require_role("admin")
def prompts() -> Any:
    svc = services()
    catalog = _catalog()
    manifest = read_manifest(svc.config.prompts_audio_dir)
    rows = []
    for prompt_id in catalog.ids:
        texts = catalog.texts[prompt_id]
        audio = {lang: _audio_state(manifest.get(f"{lang}/{prompt_id}"), text)
                 for lang, text in texts.items()}
        rows.append({"id": prompt_id, "texts": texts, "audio": audio})
    return render_template("admin/prompts.html", rows=rows, languages=catalog.languages,
                           csrf=csrf_token())


def _audio_state(entry: dict[str, Any] | None, text: str) -> str:
    if not entry:
        return "TTS at call time (<Say>)"
    if entry.get("text_sha") != text_digest(text):
        return "stale audio: <Say> until rebuilt"
    return f"{entry.get('source', 'audio')}, {entry.get('seconds', '?')} s"


@bp.post("/prompts/<prompt_id>/<language>")
@require_role("admin")
def set_text(prompt_id: str, language: str) -> Any:
    check_csrf()
    svc = services()
    try:
        set_prompt_text(svc.config.prompts_catalog, prompt_id, language,
                        request.form.get("text", ""), _check_flows,
                        svc.config.instance_dir / "prompt-catalog-backups", datetime.now(UTC))
    except (ConfigError, NotFound) as exc:
        flash(str(exc), "error")
    except FlowErrors as exc:
        flash(f"Refused, a flow would break: {exc}", "error")
    else:
        svc.flows.reload()
        flash(f"Saved {prompt_id} ({language}); callers hear it from the next call.", "ok")
    return redirect(url_for("admin_prompts.prompts", _anchor=f"p-{prompt_id}"), 303)


@bp.post("/prompts/<prompt_id>/<language>/audio")
@body_limit(UPLOAD_BODY_BYTES)  # above require_role: its CSRF check reads the form
@require_role("admin")
def upload(prompt_id: str, language: str) -> Any:
    check_csrf()
    svc = services()
    file = request.files.get("audio")
    if file is None or not file.filename:
        flash("Choose an audio file to upload.", "error")
        return redirect(url_for("admin_prompts.prompts"), 303)
    with tempfile.TemporaryDirectory(prefix="ivr-upload-") as tmp:
        path = Path(tmp) / "upload"
        file.save(path)
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            abort(413, description=f"recordings are limited to {MAX_UPLOAD_BYTES} bytes")
        try:
            seconds = save_recording(_catalog(), svc.config.prompts_catalog, prompt_id,
                                     language, path, svc.config.prompts_audio_dir)
        except (PromptAudioError, NotFound) as exc:
            flash(str(exc), "error")
            return redirect(url_for("admin_prompts.prompts"), 303)
    flash(f"Recording for {prompt_id} ({language}) installed: {seconds} s, 8 kHz mu-law.", "ok")
    return redirect(url_for("admin_prompts.prompts", _anchor=f"p-{prompt_id}"), 303)


@bp.post("/prompts/preview")
@require_role("admin")
def preview() -> Any:
    """TTS of the posted text (the draft in the form), as a phone would play it."""
    check_csrf()
    language = request.form.get("language", "en-US")[:20]
    voice = (_catalog().voices.get(language) or {}).get("espeak") or DEFAULT_VOICES.get(
        language, language.lower())
    try:
        audio = preview_tts(request.form.get("text", ""), str(voice))
    except (ConfigError, PromptAudioError) as exc:
        abort(400, description=str(exc))
    return Response(audio, mimetype="audio/wav")
