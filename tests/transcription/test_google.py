"""The Google engine's real client code over real gRPC, against the local Speech stand-in."""

from __future__ import annotations

import io

import grpc
import pytest

from ivr.domain.errors import TranscriptionFailed
from ivr.outcomes.transcription.audio import AudioSegment
from ivr.outcomes.transcription.google import GoogleTranscriber
from ivr.outcomes.transcription.google_standin import SpeechStandin

_ENC = "LINEAR16"


def _engine(standin: SpeechStandin, **kwargs: object) -> GoogleTranscriber:
    return GoogleTranscriber(endpoint=standin.address, **kwargs)  # type: ignore[arg-type]


def test_request_carries_the_config_and_the_native_rate_audio(
        standin: SpeechStandin, order_wav: bytes) -> None:
    standin.answer("Please call me back about my order.", confidence=0.87)
    transcript = _engine(standin, model="phone_call").transcribe(order_wav, "es-MX")
    assert transcript.text == "Please call me back about my order."
    assert transcript.confidence == pytest.approx(0.87)
    assert (transcript.engine, transcript.language) == ("google", "es-MX")
    [request] = standin.requests
    config = request.config
    assert config.encoding.name == _ENC
    assert config.sample_rate_hertz == 8000  # native rate, not resampled
    assert config.language_code == "es-MX"
    assert config.enable_automatic_punctuation
    assert config.model == "phone_call"
    seconds = len(AudioSegment.from_file(io.BytesIO(order_wav))) / 1000
    assert len(request.audio.content) == pytest.approx(seconds * 8000 * 2, abs=4)


def test_the_stand_in_can_answer_from_the_audio_itself(
        standin: SpeechStandin, order_wav: bytes) -> None:
    transcript = _engine(standin).transcribe(order_wav, "en-US")  # stand-in runs pocketsphinx
    assert {"my", "order"} <= set(transcript.text.split())
    assert [w.text for w in transcript.words][-1] == "order"
    assert transcript.words[-1].end > transcript.words[0].start


def test_no_model_is_sent_unless_configured(standin: SpeechStandin, order_wav: bytes) -> None:
    standin.answer("hi")
    _engine(standin).transcribe(order_wav, "en-US")
    assert standin.requests[0].config.model == ""


def test_no_speech_is_an_empty_transcript(standin: SpeechStandin, silence_wav: bytes) -> None:
    transcript = _engine(standin).transcribe(silence_wav, "en-US")
    assert (transcript.text, transcript.confidence, transcript.words) == ("", None, ())


def test_a_refused_request_is_a_final_failure(standin: SpeechStandin, order_wav: bytes) -> None:
    standin.fail(grpc.StatusCode.INVALID_ARGUMENT, "Invalid recognition 'config': bad model")
    with pytest.raises(TranscriptionFailed, match="INVALID_ARGUMENT.*bad model") as info:
        _engine(standin).transcribe(order_wav, "en-US")
    assert (info.value.code, info.value.retryable) == ("engine_error", False)


def test_unavailable_is_a_retryable_failure(standin: SpeechStandin, order_wav: bytes) -> None:
    standin.fail(grpc.StatusCode.UNAVAILABLE, "try later")
    with pytest.raises(TranscriptionFailed, match="UNAVAILABLE") as info:
        _engine(standin).transcribe(order_wav, "en-US")
    assert (info.value.code, info.value.retryable) == ("engine_unavailable", True)
    assert len(standin.requests) == 1  # no gapic retry loop: RQ retries the job instead


def test_nothing_listening_is_retryable(order_wav: bytes) -> None:
    with SpeechStandin() as gone:
        address = gone.address
    engine = GoogleTranscriber(endpoint=address, timeout=2.0)
    with pytest.raises(TranscriptionFailed) as info:
        engine.transcribe(order_wav, "en-US")
    assert info.value.retryable


def test_long_voicemail_goes_through_long_running_recognize(
        standin: SpeechStandin, order_wav: bytes) -> None:
    long = AudioSegment.from_file(io.BytesIO(order_wav)) * 30  # about 66 s
    buf = io.BytesIO()
    long.export(buf, format="wav")
    standin.answer("a long message")
    transcript = _engine(standin).transcribe(buf.getvalue(), "en-US")
    assert transcript.text == "a long message"
    assert type(standin.requests[0]).__name__ == "LongRunningRecognizeRequest"


def test_stand_in_refuses_what_google_refuses(standin: SpeechStandin) -> None:
    from google.cloud import speech_v1
    from google.cloud.speech_v1.services.speech.transports import SpeechGrpcTransport

    client = speech_v1.SpeechClient(
        transport=SpeechGrpcTransport(channel=grpc.insecure_channel(standin.address)))
    config = speech_v1.RecognitionConfig(encoding="LINEAR16", sample_rate_hertz=8000)
    from google.api_core.exceptions import InvalidArgument

    with pytest.raises(InvalidArgument, match="language_code"):
        client.recognize(config=config, audio=speech_v1.RecognitionAudio(content=b"\0\0"),
                         retry=None)
    config.language_code = "en-US"
    with pytest.raises(InvalidArgument, match="content is empty"):
        client.recognize(config=config, audio=speech_v1.RecognitionAudio(), retry=None)
    with pytest.raises(InvalidArgument, match="Sync input too long"):
        client.recognize(config=config, retry=None,
                         audio=speech_v1.RecognitionAudio(content=b"\0" * 2 * 8000 * 61))
