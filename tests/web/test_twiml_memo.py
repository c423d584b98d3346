"""Remembered TwiML (ivr/phone/twiml_memo.py, IVR_TWIML_MEMO): always the document `render`
makes for the same arguments, built once per prompt-audio check window, bounded in size."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr import create_app
from ivr.domain.flow.actions import Dial, Enqueue, Gather, Hangup, Pause, Record, Say, Speech
from ivr.phone.twiml import Urls, render
from ivr.phone.twiml_memo import TwimlMemo
from tests.twiml_validate import assert_valid_twiml
from tests.web.conftest import web_settings
from tests.web.test_webhook_lane import play

URLS = Urls("https://ivr.example.test")
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
SPEECH = st.builds(Speech, TEXT, st.sampled_from(["en-US", "es-US", "fr-FR"]),
                   st.sampled_from([None, "welcome", "menu"]))
ACTION = st.one_of(
    st.builds(Say, SPEECH), st.builds(Pause, st.integers(0, 5)),
    st.builds(Gather, st.lists(SPEECH, max_size=3).map(tuple),
              st.sampled_from(["dtmf", "speech", "dtmf speech"]),
              st.none() | st.integers(1, 4), st.sampled_from(["#", "*", ""]),
              st.integers(1, 10), st.lists(TEXT, max_size=3).map(tuple)),
    st.builds(Enqueue, st.sampled_from(["support", "sales"]), st.just("q")),
    st.builds(Record, st.integers(1, 120), st.integers(1, 10)),
    st.builds(Dial, st.just("+14155550123")), st.builds(Hangup, st.just("done")))


class Audio:
    """A prompt-audio lookup with windows, as PromptAudio's: recordings of some prompts."""

    def __init__(self) -> None:
        self.recorded: set[str] = {"welcome"}
        self.number = 1

    def __call__(self, prompt_id: str, language: str, text: str) -> str | None:
        return f"/prompts/{language}/{prompt_id}.wav?v=1" if prompt_id in self.recorded else None

    def window(self) -> int | None:
        return self.number


@settings(max_examples=300, deadline=None)
@given(st.lists(ACTION, min_size=1, max_size=4).map(tuple), st.integers(1, 9),
       st.sampled_from(["en-US", "es-US"]))
def test_the_memo_gives_what_render_gives(actions, seq: int, language: str) -> None:
    audio = Audio()
    memo = TwimlMemo(64, audio.window)
    expected = render(actions, URLS, seq, audio, language)
    assert memo(actions, URLS, seq, audio, language) == expected
    assert memo(actions, URLS, seq, audio, language) == expected  # remembered
    assert memo.rendered == 1
    assert memo(actions, URLS, seq + 1, audio, language) == render(actions, URLS, seq + 1,
                                                                   audio, language)
    assert_valid_twiml(expected.encode())


def test_a_new_audio_window_builds_the_document_again() -> None:
    audio = Audio()
    memo = TwimlMemo(64, audio.window)
    actions = (Say(Speech("Hello", "en-US", "menu")), Hangup("done"))
    assert "<Say" in memo(actions, URLS, 1, audio, "en-US")
    audio.recorded.add("menu")  # built: within the window the old answer stands, as the
    assert "<Say" in memo(actions, URLS, 1, audio, "en-US")  # lookup's own answers do
    audio.number += 1
    assert "<Play>https://ivr.example.test/prompts/en-US/menu.wav" in memo(
        actions, URLS, 1, audio, "en-US")
    assert memo.rendered == 2


def test_without_windows_or_size_nothing_is_remembered() -> None:
    actions = (Say(Speech("Hello", "en-US", "menu")),)
    no_window = TwimlMemo(64, lambda: None)
    off = TwimlMemo(0, lambda: 1)
    for memo in (no_window, off):
        for _ in range(3):
            assert memo(actions, URLS, 1, None, "en-US") == render(actions, URLS, 1)
        assert memo.rendered == 3


def test_an_action_that_is_no_key_is_rendered_each_time() -> None:
    memo = TwimlMemo(64, lambda: 1)
    gather = Gather((Speech("Press 1", "en-US"),), "dtmf speech",
                    hints=["one", "two"])  # type: ignore[arg-type] - a list: unhashable
    for _ in range(2):
        assert memo((gather,), URLS, 1) == render((gather,), URLS, 1)
    assert memo.rendered == 2


def test_the_memo_is_bounded() -> None:
    memo = TwimlMemo(3, lambda: 1)
    for n in range(10):
        memo((Pause(n),), URLS, 1)
    assert len(memo._docs[1]) <= 3
    assert memo((Pause(9),), URLS, 1) == render((Pause(9),), URLS, 1)


def test_calls_are_answered_alike_with_the_memo_off(redis_url: str, redis,  # noqa: ARG001
                                                   tmp_path) -> None:
    # one prompt-audio window for the whole test (a new window would rebuild the documents)
    app = create_app(web_settings(redis_url, tmp_path / "on", prompt_check_every=3600))
    off = create_app(web_settings(redis_url, tmp_path / "off", twiml_memo=0))
    memo = app.extensions["ivr"].calls.render_twiml
    assert isinstance(memo, TwimlMemo)
    assert off.extensions["ivr"].calls.render_twiml is render
    first = play(app, through_lane=True)
    built = memo.rendered
    assert built > 0
    assert play(app, through_lane=True) == first == play(off, through_lane=True)
    assert memo.rendered == built  # the second call's documents were all remembered
