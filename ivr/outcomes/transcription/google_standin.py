"""A local stand-in for Google's Speech-to-Text v1 gRPC service, for tests and the demo.

A real grpcio server on 127.0.0.1 registers the real service name
`google.cloud.speech.v1.Speech` with `Recognize` and `LongRunningRecognize`, (de)serialised
with google-cloud-speech's own message types, so `GoogleTranscriber` runs its real client code
over real gRPC. It checks requests as the real service does for the fields we use (encoding,
sample rate, language, inline audio, the 60 s sync limit) and answers INVALID_ARGUMENT
otherwise. Answers come from a script (`answer`, `fail`) or, when the script is empty, from
the offline engine run on the audio. Long-running calls answer with an already-done
operation, so the client never polls.

Run one for the demo: `python -m ivr.outcomes.transcription.google_standin [PORT]`, then set
`IVR_SPEECH_ENDPOINT=127.0.0.1:PORT`. Owns `SpeechStandin`; imports no Flask, RQ or Redis.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections import deque
from concurrent import futures
from typing import Any

import grpc
from google.cloud import speech_v1
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, duration_pb2

from ivr.domain.errors import TranscriptionFailed
from ivr.outcomes.transcription import Transcriber, Transcript
from ivr.outcomes.transcription.audio import PcmAudio, pcm_to_wav

SERVICE = "google.cloud.speech.v1.Speech"
_ENC = speech_v1.RecognitionConfig.AudioEncoding
_WIDTH = {_ENC.LINEAR16: 2, _ENC.MULAW: 1}  # bytes per sample of the encodings we accept


class SpeechStandin:
    """The stand-in server. `requests` keeps every request received (proto-plus messages)."""

    def __init__(self, transcriber: Transcriber | None = None) -> None:
        self.transcriber = transcriber
        self.requests: list[Any] = []
        self._script: deque[Transcript | tuple[grpc.StatusCode, str]] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def answer(self, text: str, confidence: float = 0.92) -> None:
        """Queue a scripted transcript for the next request."""
        self._script.append(Transcript(text, confidence, "standin", ""))

    def fail(self, status: grpc.StatusCode, message: str) -> None:
        """Queue an error status for the next request."""
        self._script.append((status, message))

    def start(self, port: int = 0) -> SpeechStandin:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handlers = {
            "Recognize": grpc.unary_unary_rpc_method_handler(
                self._recognize, request_deserializer=speech_v1.RecognizeRequest.pb().FromString,
                response_serializer=_serialize),
            "LongRunningRecognize": grpc.unary_unary_rpc_method_handler(
                self._long_running,
                request_deserializer=speech_v1.LongRunningRecognizeRequest.pb().FromString,
                response_serializer=_serialize),
        }
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
        self.port = server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None

    def __enter__(self) -> SpeechStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _recognize(self, request_pb: Any, context: grpc.ServicerContext) -> Any:
        request = speech_v1.RecognizeRequest.wrap(request_pb)
        response = self._respond(request, context, sync=True)
        return speech_v1.RecognizeResponse.pb(response)

    def _long_running(self, request_pb: Any, context: grpc.ServicerContext) -> Any:
        request = speech_v1.LongRunningRecognizeRequest.wrap(request_pb)
        response = self._respond(request, context, sync=False)
        packed = any_pb2.Any()
        packed.Pack(speech_v1.LongRunningRecognizeResponse.pb(
            speech_v1.LongRunningRecognizeResponse(results=response.results)))
        return operations_pb2.Operation(name=f"standin-{next(self._ids)}", done=True,
                                        response=packed)

    def _respond(self, request: Any, context: grpc.ServicerContext, sync: bool) -> Any:
        with self._lock:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None
        problem = check_request(request.config, request.audio, sync)
        if problem:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        if isinstance(scripted, tuple):
            context.abort(*scripted)
        if isinstance(scripted, Transcript):
            return _response(scripted)
        return _response(self._run_engine(request.config, request.audio.content, context))

    def _run_engine(self, config: Any, content: bytes, context: grpc.ServicerContext) -> Any:
        if self.transcriber is None:
            # pocketsphinx's model is loaded on the first request, not when the stand-in starts
            from ivr.outcomes.transcription.offline import OfflineTranscriber

            self.transcriber = OfflineTranscriber()
        pcm = _linear16(config, content)
        try:
            return self.transcriber.transcribe(pcm_to_wav(pcm), config.language_code)
        except TranscriptionFailed as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.reason)


def check_request(config: Any, audio: Any, sync: bool) -> str | None:
    """The first thing the real service would refuse in this request, or None."""
    if config.encoding not in _WIDTH:
        return f"stand-in accepts LINEAR16 or MULAW, got {config.encoding.name}"
    if not 8000 <= config.sample_rate_hertz <= 48000:
        return f"sample_rate_hertz must be 8000..48000, got {config.sample_rate_hertz}"
    if not config.language_code:
        return "language_code is required"
    if not audio.content:
        return "RecognitionAudio.content is empty (the stand-in does not fetch uri)"
    seconds = len(audio.content) / (_WIDTH[config.encoding] * config.sample_rate_hertz)
    if sync and seconds > 60:
        return "Sync input too long. For audio longer than 1 min use LongRunningRecognize."
    return None


def _linear16(config: Any, content: bytes) -> PcmAudio:
    if config.encoding == _ENC.MULAW:
        from pydub.utils import audioop

        content = audioop.ulaw2lin(content, 2)
    return PcmAudio(pcm=content, sample_rate=config.sample_rate_hertz)


def _response(transcript: Transcript) -> Any:
    if not transcript.text:
        return speech_v1.RecognizeResponse(results=[])
    words = [speech_v1.WordInfo(word=w.text, confidence=w.confidence or 0.0,
                                start_time=_duration(w.start), end_time=_duration(w.end))
             for w in transcript.words]
    alternative = speech_v1.SpeechRecognitionAlternative(
        transcript=transcript.text, confidence=transcript.confidence or 0.0, words=words)
    return speech_v1.RecognizeResponse(
        results=[speech_v1.SpeechRecognitionResult(alternatives=[alternative])])


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted: `python -m ivr.outcomes.transcription.google_standin [PORT]`."""
    args = sys.argv[1:] if argv is None else argv
    standin = SpeechStandin().start(int(args[0]) if args else 0)
    print(f"Speech stand-in on {standin.address}: export IVR_SPEECH_ENDPOINT={standin.address}",
          flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
