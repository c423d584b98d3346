"""Hold music (issue 12 item 13): the project's own piece, built to 8 kHz mu-law WAV by `ivr
prompts build`, played with <Play> in the hold loop between announcements; a queue's own
`hold_audio:` (a file under the prompts folder or an https URL) wins, a bad one is refused by
`ivr check` with FILE:LINE, and without any built audio the loop `<Pause>`s as before.

Calls are walked by the Twilio stand-in's leg through the web app: every TwiML it receives is
validated, and (check_audio) every same-origin <Play> URL is fetched and must answer 200."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask

from devkit.twilio_standin.leg import CallLeg, LegOptions
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.transport import FlaskTransport
from ivr import create_app
from ivr.commands.check import command as check_command
from ivr.commands.prompts import command as prompts_command
from ivr.config.settings import REPO_ROOT
from ivr.prompts.audio import export_mulaw, load_pydub
from ivr.prompts.hold_music import PIECE, bars_for, build_hold_music, music_paths
from tests.prompts.wavfile import mulaw_stats, read_format
from tests.twiml_validate import twiml_problems
from tests.web.conftest import BASE, TOKEN
from tests.web.test_demo_flows import SHOP, TUESDAY_MORNING

TO_SUPPORT = "press 1; press 0; hold 2"  # the shop's menu, 0: the support queue


@pytest.fixture(scope="module")
def music_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hold music built once for this module (about a second of synthesis)."""
    audio = tmp_path_factory.mktemp("audio")
    build_hold_music(audio, 15)
    return audio


def tone_wav(path: Path, seconds: float, rate: int = 8000, channels: int = 1) -> Path:
    from pydub.generators import Sine

    load_pydub()
    segment = Sine(440, sample_rate=rate).to_audio_segment(duration=seconds * 1000,
                                                            volume=-20)
    if rate == 8000 and channels == 1:
        export_mulaw(segment, path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        segment.set_channels(channels).export(str(path), format="wav")
    return path


def shop_app(tmp_path: Path, redis_url: str, audio_dir: Path,
             hold_audio: dict[str, str] | None = None) -> Flask:
    """The demo app with prompts in tmp_path/prompts (so queue files can live there) and
    queues.yaml's `hold_audio:` set per queue from `hold_audio`."""
    prompts = tmp_path / "prompts"
    prompts.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "prompts" / "catalog.yaml", prompts / "catalog.yaml")
    setup = yaml.safe_load((REPO_ROOT / "queues.yaml").read_text())
    for queue, value in (hold_audio or {}).items():
        setup["queues"][queue]["hold_audio"] = value
    (tmp_path / "queues.yaml").write_text(yaml.safe_dump(setup))
    return create_app({"redis_url": redis_url, "twilio_auth_token": TOKEN,
                       "public_base_url": BASE, "instance_dir": tmp_path / "instance",
                       "prompts_catalog": prompts / "catalog.yaml",
                       "prompts_audio_dir": audio_dir, "queues_file": tmp_path / "queues.yaml",
                       "announce_every": 60, "hold_pause": 15})


def hold_loop(app: Flask) -> list[Any]:
    """What a caller in the support queue hears and does: the events of two hold loops."""
    app.extensions["ivr"].clock = lambda: TUESDAY_MORNING
    leg = CallLeg(BASE, FlaskTransport(app), Script.parse(TO_SUPPORT), auth_token=TOKEN,
                  from_="+14155550123", to=SHOP,
                  options=LegOptions(max_hold_loops=2, check_audio=True,
                                     validate=twiml_problems))
    leg.run()
    assert leg.transcript.ok, leg.transcript.render()
    start = next(i for i, e in enumerate(leg.transcript.events) if e.kind == "enqueue")
    return leg.transcript.events[start:]


def plays(events: list[Any]) -> list[str]:
    return [e.text for e in events if e.kind == "play"]


def pauses(events: list[Any]) -> list[str]:
    return [e.text for e in events if e.kind == "pause"]


def test_built_music_is_8khz_mulaw_of_whole_bars(music_dir: Path) -> None:
    wav, info = music_paths(music_dir)
    fmt = read_format(wav)
    assert (fmt.format_code, fmt.channels, fmt.sample_rate, fmt.bits) == (7, 1, 8000, 8)
    rms, peak, seconds = mulaw_stats(wav)
    assert seconds == pytest.approx(4 * PIECE.bar_seconds, abs=0.01) == pytest.approx(15.0)
    assert -30 < rms < -18
    assert peak < -1
    assert yaml.safe_load(info.read_text())["seconds"] == 15.0


def test_music_fits_other_loop_lengths_and_is_rebuilt_only_when_it_changes(
        tmp_path: Path) -> None:
    assert bars_for(10) == 2
    assert bars_for(30) == 8
    assert bars_for(2) == 1
    assert build_hold_music(tmp_path, 10)["built"] is True
    assert mulaw_stats(music_paths(tmp_path)[0])[2] == pytest.approx(7.5, abs=0.01)
    assert build_hold_music(tmp_path, 10)["built"] is False
    assert build_hold_music(tmp_path, 11)["built"] is False  # same two bars
    assert build_hold_music(tmp_path, 15)["built"] is True


def test_prompts_build_renders_the_music(tmp_path: Path, monkeypatch) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text('prompts:\n  hi: {en-US: "Hello."}\n')
    monkeypatch.setenv("IVR_HOLD_PAUSE", "8")
    out = tmp_path / "audio"
    result = CliRunner().invoke(prompts_command, ["build", "--catalog", str(catalog),
                                                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "hold music: built, 7.5 s for 8 s loops" in result.output
    assert mulaw_stats(music_paths(out)[0])[2] == pytest.approx(7.5, abs=0.01)


def test_the_hold_loop_plays_the_music_between_announcements(
        music_dir: Path, redis_url: str, redis, tmp_path: Path) -> None:
    events = hold_loop(shop_app(tmp_path, redis_url, music_dir))
    music = [url for url in plays(events) if "/prompts/music/hold.wav?v=" in url]
    assert len(music) == 2  # one per loop, fetched (200) by the stand-in
    assert music[0].startswith(BASE + "/prompts/music/hold.wav?v=")
    assert pauses(events) == []  # 15 s of music fills the 15 s loop
    # the stand-in read the WAV it fetched: the caller hears 15 s of it, not a nominal 3 s
    first = next(i for i, e in enumerate(events) if e.kind == "play" and "/music/" in e.text)
    assert events[first + 1].at - events[first].at >= 15.0


def test_without_built_audio_the_loop_pauses_as_before(
        redis_url: str, redis, tmp_path: Path) -> None:
    events = hold_loop(shop_app(tmp_path, redis_url, tmp_path / "no-audio"))
    assert [p for p in plays(events) if "hold" in p] == []
    assert pauses(events) == ["15s of silence"] * 2


def test_a_queue_plays_its_own_file_padded_to_the_loop(
        music_dir: Path, redis_url: str, redis, tmp_path: Path) -> None:
    own = tone_wav(tmp_path / "prompts" / "music" / "acme.wav", 5)
    app = shop_app(tmp_path, redis_url, music_dir, {"support": "music/acme.wav"})
    events = hold_loop(app)
    queue_file = [url for url in plays(events) if "/prompts/hold/support.wav?v=" in url]
    assert len(queue_file) == 2
    assert not [url for url in plays(events) if "/prompts/music/" in url]
    assert pauses(events) == ["10s of silence"] * 2  # 5 s of audio + 10 s: the loop's 15 s
    served = app.test_client().get(queue_file[0].removeprefix(BASE))
    assert served.status_code == 200
    assert served.data == own.read_bytes()
    assert app.test_client().get("/prompts/hold/sales.wav").status_code == 404


def test_a_queue_plays_its_https_url(music_dir: Path, redis_url: str, redis,
                                     tmp_path: Path) -> None:
    url = "https://cdn.example.com/hold/support.mp3"
    events = hold_loop(shop_app(tmp_path, redis_url, music_dir, {"support": url}))
    assert plays(events).count(url) == 2


def test_a_queue_file_deleted_after_start_falls_back_to_the_music(
        music_dir: Path, redis_url: str, redis, tmp_path: Path) -> None:
    own = tone_wav(tmp_path / "prompts" / "music" / "acme.wav", 5)
    app = shop_app(tmp_path, redis_url, music_dir, {"support": "music/acme.wav"})
    own.unlink()
    events = hold_loop(app)
    assert len([u for u in plays(events) if "/prompts/music/hold.wav" in u]) == 2


QUEUES = """\
queues:
  support:
    skill: support
    hold_audio: music/ok.wav
  sales:
    skill: sales
    hold_audio: http://cdn.example.com/hold.mp3
  billing:
    skill: billing
    hold_audio: music/missing.wav
  vip:
    skill: vip
    hold_audio: ../outside.wav
  stereo:
    skill: stereo
    hold_audio: music/cd.wav
  long:
    skill: long
    hold_audio: music/long.wav
"""


def test_check_refuses_bad_hold_audio_with_file_and_line(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    shutil.copy(REPO_ROOT / "prompts" / "catalog.yaml", prompts / "catalog.yaml")
    tone_wav(prompts / "music" / "ok.wav", 5)
    tone_wav(prompts / "music" / "cd.wav", 1, rate=44100, channels=2)
    tone_wav(prompts / "music" / "long.wav", 20)
    tone_wav(tmp_path / "outside.wav", 1)
    queues = tmp_path / "queues.yaml"
    queues.write_text(QUEUES)
    flows = tmp_path / "callflows"
    flows.mkdir()
    result = CliRunner().invoke(check_command, [
        str(flows), "--catalog", str(prompts / "catalog.yaml"), "--queues", str(queues),
        "--followup", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    expected = {7: "URL must be https://", 10: "no such file", 13: "inside the prompts folder",
                16: "8000 Hz mono", 19: "longer than one hold loop"}
    for line, words in expected.items():
        assert any(text.startswith(f"{queues}:{line}: ") and words in text
                   for text in lines), (line, lines)
    assert not [text for text in lines if text.startswith(f"{queues}:4: ")]  # ok.wav is fine
