"""`ivr prompts`: build prompt audio from the catalogue, and show which prompts are current.

Thin: parses options, calls `ivr.prompts.audio`, prints. Paths default to the settings
(`IVR_PROMPTS_CATALOG`, `IVR_PROMPTS_AUDIO_DIR`), i.e. `prompts/catalog.yaml` and
`prompts/audio` in the repository.
"""

from __future__ import annotations

from pathlib import Path

import click

from ivr.prompts.audio import (
    PromptAudioError,
    build_prompts,
    read_manifest,
    read_sources,
    text_digest,
)

_catalog_option = click.option(
    "--catalog", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Prompt catalogue YAML.  [default: prompts/catalog.yaml]")
_out_option = click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Audio folder the web app serves.  [default: prompts/audio]")


def _paths(catalog: Path | None, out: Path | None) -> tuple[Path, Path]:
    from ivr.config.settings import from_env

    config = from_env()
    return catalog or config.prompts_catalog, out or config.prompts_audio_dir


@click.group("prompts")
def command() -> None:
    """Prompt audio: 8 kHz mu-law WAVs played instead of <Say> when current."""


@command.command("build")
@_catalog_option
@_out_option
@click.option("--force", is_flag=True, help="Rebuild every prompt, even unchanged ones.")
@click.option("--no-music", is_flag=True, help="Skip the hold music (ivr/prompts/hold_music.py).")
def build(catalog: Path | None, out: Path | None, force: bool, no_music: bool) -> None:
    """Render new and changed prompts (recording if given, else espeak-ng TTS), then the hold
    music for loops of IVR_HOLD_PAUSE seconds."""
    catalog, out = _paths(catalog, out)
    try:
        sources = read_sources(catalog)
        report = build_prompts(sources, out, force=force, echo=click.echo)
    except PromptAudioError as exc:
        raise click.ClickException(str(exc)) from exc
    for note in report.notes:
        click.echo(f"  note: {note}")
    for key in report.removed:
        click.echo(f"  removed {key} (no longer in the catalogue)")
    click.echo(f"{report.summary()} -> {out}")
    if not no_music:
        _build_music(out, force)


def _build_music(out: Path, force: bool) -> None:
    from ivr.config.settings import from_env
    from ivr.prompts.hold_music import build_hold_music, music_paths

    hold_pause = from_env().hold_pause
    music = build_hold_music(out, hold_pause, force=force)
    state = "built" if music["built"] else "up to date"
    click.echo(f"hold music: {state}, {music['seconds']} s for {hold_pause:g} s loops -> "
               f"{music_paths(out)[0]}")


@command.command("status")
@_catalog_option
@_out_option
def status(catalog: Path | None, out: Path | None) -> None:
    """List prompts whose audio is missing or stale (those are spoken with <Say>)."""
    catalog, out = _paths(catalog, out)
    try:
        sources = read_sources(catalog)
    except PromptAudioError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = read_manifest(out)
    behind = 0
    for source in sources:
        entry = manifest.get(source.key)
        if entry is None or not (out / source.language / f"{source.prompt_id}.wav").is_file():
            state = "missing"
        elif entry.get("source_sha") != source.digest():
            state = "stale" if entry.get("text_sha") != text_digest(source.text) else "outdated"
        else:
            continue
        behind += 1
        click.echo(f"  {state:8} {source.key}")
    click.echo(f"prompts: {len(sources) - behind} of {len(sources)} current"
               + ("; run `ivr prompts build`" if behind else ""))


@command.command("softphone-sounds")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder the console serves them from.  "
                   "[default: dashboards/static/sounds/softphone]")
@click.option("--force", is_flag=True, help="Rebuild every sound, even unchanged ones.")
def softphone_sounds(out: Path | None, force: bool) -> None:
    """Render the agent console softphone's ring, ringback, disconnect and DTMF sounds
    (ivr/prompts/softphone_sounds.py) to MP3s: the SDK then needs nothing from sdk.twilio.com."""
    from ivr.prompts.softphone_sounds import SOUNDS, SOUNDS_DIR, build_softphone_sounds

    folder = out or SOUNDS_DIR
    built = build_softphone_sounds(folder, force=force)
    click.echo(f"softphone sounds: {len(built)} built, {len(SOUNDS) - len(built)} up to date "
               f"-> {folder}")
