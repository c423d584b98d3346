"""The services a running app holds: connections made once and passed explicitly.

`build_services(config)` is called by `create_app` (and by workers and the simulator), never at
import. It connects Redis (the embedded server when `REDIS_URL` is unset), loads the flows,
lookup sources and queue engine, and wires them into the call service. Views reach them through
`services()`; nothing else keeps global state, so several web processes can share one Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from flask import current_app
from rq import Queue

from ivr.app.queues_check import queue_problems
from ivr.config.queues import build_queue_service, load_engine_options, load_queues
from ivr.config.settings import Config
from ivr.domain.errors import FlowError
from ivr.domain.privacy import failed_job_ttl, policy_from_config
from ivr.flows.lookups import LookupSources, load_sources, source_problems
from ivr.flows.registry import FlowRegistry
from ivr.outcomes.outgoing_numbers import outgoing_countries
from ivr.outcomes.recording_media import RECORDING_SID, allowed_origin
from ivr.outcomes.sms_survey import SmsSurveys
from ivr.outcomes.spool import Spool, SpoolDrainer
from ivr.phone.bridging import BridgeService
from ivr.phone.call_control import TwilioCallControl, build_client
from ivr.phone.callback_legs import CallbackLegs
from ivr.phone.calls import AcceptAll, CallService
from ivr.phone.first_step_memo import FirstStepMemo
from ivr.phone.floor_legs import FloorLegs
from ivr.phone.floor_recording import FloorRecording
from ivr.phone.hold_audio import HoldAudio
from ivr.phone.holding import HoldService, HoldSettings
from ivr.phone.queue_handoff import QueueHandOff
from ivr.phone.queue_twiml import Prompter
from ivr.phone.twiml import Urls, render
from ivr.phone.twiml_memo import TwimlMemo
from ivr.prompts.catalog import load_catalog
from ivr.prompts.lookup import PromptAudio
from ivr.store import events, redis_connect
from ivr.store.call_start import OneTripStart
from ivr.store.call_state import CallStateStore
from ivr.store.caller_summary import queue_start_reads
from ivr.store.embedded_redis import EmbeddedRedis
from ivr.store.floor import FloorStore
from ivr.store.jobs import (
    ROUTING_QUEUE,
    TRANSCRIPTION_QUEUE,
    FloorJobs,
    RqTrigger,
    enqueue_transcription,
)
from ivr.store.redis_queue import QueueService

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    config: Config
    redis: redis.Redis
    calls: CallService
    urls: Urls
    flows: Any
    queue_engine: QueueService | None = None
    handoff: QueueHandOff | None = None
    holding: HoldService | None = None
    bridging: BridgeService | None = None
    callback_legs: CallbackLegs | None = None
    floor_legs: FloorLegs | None = None
    floor_recording: FloorRecording | None = None  # recorded agent calls (issue 14 item 4)
    clock: Callable[[], datetime] = utc_now
    fallback_queue: str = "support"
    embedded: EmbeddedRedis | None = field(default=None, repr=False)
    spool: Spool | None = field(default=None, repr=False)
    drainer: SpoolDrainer | None = field(default=None, repr=False)
    # Countries SMS surveys may go to (ivr/outcomes/outgoing_numbers.py): a spoofed caller ID must
    # not make us text a premium-rate or foreign number.
    sms_countries: frozenset[str] = frozenset({"US"})

    def end_request(self) -> None:
        """After every request (Flask's teardown and the webhook lane): connections the
        request's thread held for the call scripts go back to the pool, unless the thread
        keeps its own for its next request (IVR_LEAN_REDIS_KEEP; issue 12; see
        ivr/store/lean_script.py)."""
        self.calls.store.held.end_request()

    def defer(self, kind: str, call_sid: str, payload: Mapping[str, Any], at: datetime,
              exc: Exception) -> None:
        """Redis was away: keep the webhook's work in the local spool (ivr/outcomes/spool.py); the
        drainer applies it when Redis is back. Raises `exc` again when there is no spool."""
        if self.spool is None or self.drainer is None:
            raise exc
        log.warning("call %s: %s deferred to the local spool (%s)", call_sid, kind, exc)
        self.spool.put({"kind": kind, "call": call_sid, "at": at.timestamp(),
                        "payload": dict(payload)})
        self.drainer.wake()

    def apply_deferred(self, record: Mapping[str, Any]) -> None:
        """Run a spooled webhook's work at its original time (the spool drainer calls this)."""
        at = datetime.fromtimestamp(float(record["at"]), UTC)
        payload = dict(record.get("payload") or {})
        if record["kind"] == "call_ended":
            self.call_ended(str(record["call"]), payload, at)
        elif record["kind"] == "recording":
            self.recording_ready(str(record["call"]), str(payload.pop("mailbox", "general")),
                                 payload, at)
        elif record["kind"] == "floor_recording" and self.floor_recording is not None:
            self.floor_recording.status_callback(str(record["call"]), payload, at)
        else:
            log.error("spool: unknown record kind %r for call %s dropped", record["kind"],
                      record.get("call"))

    def publish(self, kind: str, call_sid: str, data: Mapping[str, Any], at: datetime) -> None:
        """Append an outcome event to the Redis stream; the database writer picks it up."""
        publish_event(self.redis, kind, call_sid, data, at)

    def queue_left(self, call_sid: str, result: str, now: datetime) -> str | None:
        """The Enqueue action: the flow's queue_result, or None to leave the flow alone."""
        if self.handoff is None:
            return result
        return self.handoff.left(call_sid, result, now)

    def call_ended(self, call_sid: str, form: Mapping[str, str], now: datetime) -> None:
        status = form.get("CallStatus", "")[:20]
        duration = _seconds(form.get("CallDuration"))
        if self.handoff is not None:
            self.handoff.call_ended(call_sid, status, duration, now)
        else:
            data: dict[str, Any] = {"status": status}
            if duration is not None:
                data["duration"] = duration
            self.publish("call_ended", call_sid, data, now)
        self._offer_sms_survey(call_sid, now)

    def _offer_sms_survey(self, call_sid: str, now: datetime) -> None:
        """After the outcome is safe: an SMS survey problem never fails the status callback."""
        try:
            SmsSurveys(self.redis, self.flows, self.publish,
                       self.sms_countries).call_ended(call_sid, now)
        except Exception:  # noqa: BLE001 - logged with the sid; the call is already recorded
            log.exception("call %s: SMS survey not queued", call_sid)

    def recording_ready(self, call_sid: str, mailbox: str, form: Mapping[str, str],
                        now: datetime) -> None:
        """A voicemail is stored at Twilio: record it, then have a worker transcribe it. The
        event comes first, so the voicemail (and its follow-up task) exists even if the
        transcription job never runs."""
        if form.get("RecordingStatus", "completed") not in ("completed", ""):
            return
        url, sid = form.get("RecordingUrl", "")[:500], form.get("RecordingSid", "")[:64]
        data: dict[str, Any] = {"recording": sid or url, "url": url, "mailbox": mailbox}
        duration = _seconds(form.get("RecordingDuration"))
        if duration is not None:
            data["duration"] = duration
        self.publish("voicemail_recorded", call_sid, data, now)
        if url:
            self._transcribe(call_sid, sid, url, mailbox)

    def _transcribe(self, call_sid: str, sid: str, url: str, mailbox: str) -> None:
        transcribe(self.config, self.redis, call_sid, sid, url, mailbox=mailbox)


def transcribe(config: Config, conn: redis.Redis, call_sid: str, sid: str, url: str, *,
               mailbox: str = "", source: str = "voicemail") -> None:
    """Queue the transcription by SID when the recording is on the configured Twilio API
    (the rule playback applies too, ivr/outcomes/recording_media.py); otherwise say so and
    skip. `source` `agent_call`: a recorded agent call (ivr/phone/floor_recording.py)."""
    if not RECORDING_SID.match(sid) or not allowed_origin(url, config):
        log.warning("call %s: recording %r is not on the configured Twilio API; it is "
                    "not transcribed", call_sid, sid)
        return
    language = CallStateStore(conn).field(call_sid, "language") or "en-US"
    enqueue_transcription(Queue(TRANSCRIPTION_QUEUE, connection=conn), call_sid, sid, language,
                          mailbox=mailbox, source=source,
                          failure_ttl=failed_job_ttl(policy_from_config(config)))


def _seconds(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def publish_event(conn: redis.Redis, kind: str, call_sid: str, data: Mapping[str, Any],
                  at: datetime | float) -> None:
    """`ivr.store.events.publish_event` with a datetime (what webhooks and jobs hold)."""
    when = at.timestamp() if isinstance(at, datetime) else float(at)
    events.publish_event(conn, kind, call_sid, dict(data), when,
                         event_id=events.once_id(kind, call_sid))


def connect_redis(config: Config, role: str = "cli") -> tuple[redis.Redis, EmbeddedRedis | None]:
    """The process's Redis client, its pool bounded by the config (IVR_REDIS_MAX_CONNECTIONS),
    its connections named `ivr-<role>-<pid>` in CLIENT LIST."""
    options = {**config.redis_pool(), "client_name": redis_connect.process_client_name(role)}
    if config.redis_url:
        return redis_connect.connect(config.redis_url, **options), None
    embedded = EmbeddedRedis(config.instance_dir / "redis").start()
    return redis_connect.connect(embedded.url, **options), embedded


def build_services(config: Config, conn: redis.Redis | None = None,
                   role: str = "web") -> Services:
    embedded = None
    if conn is None:
        conn, embedded = connect_redis(config, role)
    urls = Urls(config.public_base_url)
    catalog = load_catalog(config.prompts_catalog)
    lookups = load_sources(config.flows_dir.parent / "lookups.yaml",
                           pool_size=lookup_pool_size(config))
    flows = FlowRegistry(config.flows_dir, catalog, extra_check=_flow_checks(config, lookups),
                         calendars_file=config.calendars_file,
                         check_every=config.flow_check_every)
    store = CallStateStore(conn, config.call_state_ttl, lean=config.lean_redis,
                           keep=config.lean_redis_keep, blocking=config.lean_redis_blocking)

    def publish(kind: str, sid: str, data: Mapping[str, Any], at: datetime) -> None:
        publish_event(conn, kind, sid, data, at)

    audio = _audio_lookup(config, catalog)
    engine, handoff = _queue_engine(config, conn, store, publish)
    calls = CallService(
        flows=flows,
        store=store,
        urls=urls,
        lookups=lookups,
        queues=handoff if handoff is not None else AcceptAll(),
        publish=publish,
        audio=audio,
        start_reads=queue_start_reads,
        one_trip=OneTripStart(store) if config.one_trip_start else None,
        render_twiml=_twiml_render(config, audio),
        start_step=FirstStepMemo(config.first_step_memo),
    )
    svc = Services(config=config, redis=conn, calls=calls, urls=urls, flows=flows,
                   queue_engine=engine, handoff=handoff, embedded=embedded,
                   sms_countries=outgoing_countries(config))
    svc.spool = Spool(config.instance_dir / "spool")
    svc.drainer = SpoolDrainer(svc.spool, svc.apply_deferred)
    if svc.spool.pending():  # left by a process that stopped before Redis came back
        svc.drainer.wake()
    if handoff is not None:
        prompter = Prompter(catalog, urls, audio)
        hold_audio = HoldAudio(config.public_base_url, config.prompts_audio_dir,
                               config.prompts_catalog.parent, config.queues_file)
        svc.holding = HoldService(handoff, prompter, hold_settings(config), hold_audio)
        svc.bridging = BridgeService(handoff, prompter, calls,
                                     FloorStore(conn, config.call_state_ttl),
                                     FloorJobs(Queue(ROUTING_QUEUE, connection=conn)))
        svc.floor_legs = FloorLegs(svc.bridging, hold_audio, config.hold_pause)
        svc.callback_legs = CallbackLegs(handoff, prompter, svc.bridging.floor,
                                         svc.bridging.jobs)
        svc.floor_legs.callbacks = svc.callback_legs  # a callback's floor, its own rules
        svc.floor_recording = floor_recording(config, conn, handoff, prompter)
        svc.bridging.recording = svc.floor_recording
        svc.callback_legs.recording = svc.floor_recording
    return svc


def floor_recording(config: Config, conn: redis.Redis, handoff: QueueHandOff,
                    prompter: Prompter) -> FloorRecording:
    """Recorded agent calls: each queue's `recording:`, the caller's queue from the hand-off,
    and a REST client made on first use with the console's timeout
    (IVR_FLOOR_REST_TIMEOUT)."""
    queues = handoff.service.queues
    made: list[TwilioCallControl] = []

    def control() -> TwilioCallControl:
        if not made:
            made.append(TwilioCallControl(build_client(config, config.floor_rest_timeout)))
        return made[0]

    def queue_of(call: str) -> str | None:
        if call.startswith("cb:"):  # a callback's floor (ivr/phone/callback_legs.py)
            return FloorStore(conn).field(call, "queue") or None
        visit = handoff.visit(call)
        return visit.queue if visit is not None else None

    def transcribe_call(call: str, sid: str, url: str) -> None:
        transcribe(config, conn, call, sid, url, source="agent_call")

    return FloorRecording(conn, config, settings_of=lambda q: (
        queues[q].recording if q in queues else None), queue_of=queue_of, prompter=prompter,
        control=control, transcribe=transcribe_call)


def _queue_engine(config: Config, conn: redis.Redis, store: CallStateStore,
                  publish: Any) -> tuple[QueueService | None, QueueHandOff | None]:
    """The Redis queue engine for `queues.yaml`, with routing passes as RQ jobs; None when
    the file is absent (flows then hand callers to Twilio's queue alone)."""
    if not config.queues_file.exists():
        log.warning("no %s: queue routing is off", config.queues_file)
        return None, None
    options = load_engine_options(config.queues_file)
    options.pop("tick_seconds", None)
    engine = build_queue_service(config, conn, RqTrigger(Queue(ROUTING_QUEUE, connection=conn)),
                                 **options)
    return engine, QueueHandOff(engine, store, publish, forecast_ttl(config))


def forecast_ttl(config: Config) -> float:
    """IVR_FORECAST_TTL: seconds a process reuses a queue's read for its held callers'
    estimates (ivr/store/hold_forecast.py); 0 reads the queue for every estimate."""
    return config.forecast_ttl


def _flow_checks(config: Config, sources: LookupSources) -> Any:
    """Flows may only name queues and skills queues.yaml knows and lookup sources lookups.yaml
    declares (each checked when its file exists: without it that feature is off)."""
    lookups_file = config.flows_dir.parent / "lookups.yaml"
    setup = load_queues(config.queues_file) if config.queues_file.exists() else None

    def check(flows: Mapping[str, Any]) -> list[FlowError]:
        found = source_problems(flows, sources, str(lookups_file)) if (
            lookups_file.exists()) else []
        return found + (queue_problems(flows, setup) if setup is not None else [])
    return check


def hold_settings(config: Config) -> HoldSettings:
    return HoldSettings(announce_every=config.announce_every,
                        offer_callback_above=config.offer_callback_above,
                        hold_pause=config.hold_pause)


def lookup_pool_size(config: Config) -> int:
    """IVR_LOOKUP_POOL_SIZE: connections each SQL lookup source may hold
    (ivr/flows/lookup_sql.py)."""
    return config.lookup_pool_size


def _audio_lookup(config: Config, catalog: Any) -> PromptAudio:
    """The prompt audio lookup (an `AudioLookup`), looking at the files at most every
    IVR_PROMPT_CHECK_EVERY seconds."""
    return PromptAudio(config.prompts_audio_dir, catalog,
                       check_every=config.prompt_check_every)


def _twiml_render(config: Config, audio: PromptAudio) -> Callable[..., str]:
    """`render`, remembering documents (IVR_TWIML_MEMO) within the audio's check windows."""
    if not config.twiml_memo:
        return render
    return TwimlMemo(config.twiml_memo, audio.window)


def services() -> Services:
    return current_app.extensions["ivr"]
