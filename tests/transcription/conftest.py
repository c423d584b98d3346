"""Fixtures: phone-like recordings made at test time, a Speech stand-in, an HTTP file server.

Speech comes from espeak-ng (en-us voice, 150 wpm), converted by ffmpeg to what Twilio's
RecordingUrl serves: WAV, 8 kHz, mono, G.711 mu-law. Tests fail (not skip) without espeak-ng
or ffmpeg: the project's setup installs both, and a skip would hide a broken pipeline.
"""

from __future__ import annotations

import io
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ivr.outcomes.transcription.audio import (
    AudioSegment,  # first: imports pydub without the warning
)
from ivr.outcomes.transcription.google_standin import SpeechStandin
from ivr.outcomes.transcription.offline import OfflineTranscriber

# pocketsphinx on espeak's voice reliably hears "my order" in this sentence (checked across
# espeak voices en-us, en-us+m3 and speeds 130-170 wpm); the other words come out garbled.
ORDER_SENTENCE = "please call me back about my order"
OTHER_SENTENCE = "the weather is nice and sunny today"


def phone_wav(segment: AudioSegment) -> bytes:
    """`segment` as Twilio serves voicemail: WAV 8 kHz mono mu-law (ffmpeg encodes)."""
    out = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "wav", "-i", "pipe:0", "-ar", "8000", "-ac", "1",
         "-acodec", "pcm_mulaw", "-f", "wav", "pipe:1"],
        input=_wav(segment), capture_output=True, check=True)
    return out.stdout


def _wav(segment: AudioSegment) -> bytes:
    buf = io.BytesIO()
    segment.export(buf, format="wav")
    return buf.getvalue()


@pytest.fixture(scope="session")
def speak() -> Callable[[str], bytes]:
    cache: dict[str, bytes] = {}

    def render(text: str) -> bytes:
        if text not in cache:
            raw = subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "--stdout", text],
                                 capture_output=True, check=True).stdout
            cache[text] = phone_wav(AudioSegment.from_file(io.BytesIO(raw), format="wav"))
        return cache[text]

    return render


@pytest.fixture(scope="session")
def order_wav(speak: Callable[[str], bytes]) -> bytes:
    return speak(ORDER_SENTENCE)


@pytest.fixture(scope="session")
def silence_wav() -> bytes:
    return phone_wav(AudioSegment.silent(3000, frame_rate=8000))


@pytest.fixture(scope="session")
def noise_wav() -> bytes:
    """3 s of line hiss at -20 dBFS: loud enough to pass the silence gate and reach the decoder."""
    from pydub.generators import WhiteNoise

    return phone_wav(WhiteNoise().to_audio_segment(duration=3000, volume=-20.0))


@pytest.fixture(scope="session")
def offline() -> OfflineTranscriber:
    """One decoder for the session: loading the model costs about 0.2 s."""
    return OfflineTranscriber()


@pytest.fixture
def standin(offline: OfflineTranscriber) -> Iterator[SpeechStandin]:
    with SpeechStandin(transcriber=offline) as server:
        yield server


class FileServer:
    """Serves `files` (path -> bytes) on 127.0.0.1; anything else is 404. Records requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Authorization header)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("Authorization")))
                body = outer.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FileServer:
        # a 50 ms poll: shutdown() waits for the loop's next look (default 0.5 s a test)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recordings() -> Iterator[FileServer]:
    with FileServer() as server:
        yield server
