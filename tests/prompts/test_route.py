"""GET /prompts/<lang>/<id>.wav: audio/wav, cache headers, 304, and no way out of the folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.web.prompts import bp

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 28


@pytest.fixture
def served(tmp_path: Path) -> Path:
    audio = tmp_path / "audio"
    for lang, prompt in [("en-US", "welcome"), ("es-US", "welcome"), ("en-US", "menu.main")]:
        (audio / lang).mkdir(parents=True, exist_ok=True)
        (audio / lang / f"{prompt}.wav").write_bytes(WAV + lang.encode() + prompt.encode())
    (tmp_path / "secret.wav").write_bytes(b"outside the audio folder")
    (audio / "en-US" / ".hidden.wav").write_bytes(b"hidden")
    return audio


@pytest.fixture
def client(served: Path) -> FlaskClient:
    app = Flask(__name__)
    app.config["PROMPTS_AUDIO_DIR"] = str(served)
    app.register_blueprint(bp)
    return app.test_client()


def test_serves_the_file_with_cache_headers(client: FlaskClient) -> None:
    r = client.get("/prompts/es-US/welcome.wav?v=abc123")
    assert r.status_code == 200
    assert r.mimetype == "audio/wav"
    assert r.data == WAV + b"es-USwelcome"
    assert r.headers["Cache-Control"] == "public, max-age=86400"
    assert r.headers["ETag"]
    assert r.headers["Last-Modified"]
    other = client.get("/prompts/en-US/menu.main.wav")
    assert other.data == WAV + b"en-USmenu.main"
    assert other.headers["ETag"] != r.headers["ETag"]


def test_conditional_get_gets_304(client: FlaskClient) -> None:
    first = client.get("/prompts/en-US/welcome.wav")
    again = client.get("/prompts/en-US/welcome.wav",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    since = client.get("/prompts/en-US/welcome.wav",
                       headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    changed = client.get("/prompts/en-US/welcome.wav", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200


def test_head_has_headers_and_no_body(client: FlaskClient) -> None:
    r = client.head("/prompts/en-US/welcome.wav")
    assert r.status_code == 200
    assert r.data == b""
    assert int(r.headers["Content-Length"]) == len(WAV) + len("en-USwelcome")


@pytest.mark.parametrize("path", [
    "/prompts/en-US/goodbye.wav",
    "/prompts/fr-FR/welcome.wav",
    "/prompts/en-US/welcome.mp3",
    "/prompts/en-US/.hidden.wav",
    "/prompts/en-US/...wav",
    "/prompts/../secret.wav",
    "/prompts/en-US/../../secret.wav",
    "/prompts/en-US/..%2F..%2Fsecret.wav",
    "/prompts/..%2F/secret.wav",
    "/prompts/%2E%2E/secret.wav",
    "/prompts/en-US/%2E%2E%2F%2E%2E%2Fsecret.wav",
    "/prompts/en-US/..%5C..%5Csecret.wav",
    "/prompts/en-US/%00welcome.wav",
])
def test_unknown_and_traversal_paths_get_404(client: FlaskClient, path: str) -> None:
    # follow_redirects: Werkzeug answers `..//x` with a 308 to `../x`; follow it to the end.
    r = client.get(path, follow_redirects=True)
    assert r.status_code == 404
    assert b"outside the audio folder" not in r.data


def test_default_audio_dir_is_the_repository_folder() -> None:
    from ivr.config.settings import REPO_ROOT
    from ivr.web.prompts import audio_dir

    app = Flask(__name__)
    with app.app_context():
        assert audio_dir() == REPO_ROOT / "prompts" / "audio"
