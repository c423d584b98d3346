"""The formats of queues.yaml (with its `wallboard:` section), lookups.yaml and calendars.yaml,
declared in the vocabulary of `config_schema`: every key each file takes, its type and range,
and which values name things (a queue, a schedule, a skill, a calendar).

The loaders (`ivr/config/queues.py`, `ivr/flows/lookups.py`, `ivr/config/calendars.py`,
`dashboards/wallboard_config.py`) check a file against these before they build anything, so
an unknown key, a wrong type or a name nothing declares is refused with FILE:LINE by
`ivr check` and at start, as a flow's problems are. Their own checks that need more than a
shape (a time zone that exists, warn not past alert) run after. Pure data.
"""

from __future__ import annotations

from ivr.domain.config_schema import AnyOf, ByType, Fields, Items, Named, Scalar

TEXT = Scalar("text")
SECONDS = Scalar("number", min=0)
POSITIVE = Scalar("number", above=0)
LEVEL = Scalar("int", "proficiency", min=1, max=5)
COUNT = Scalar("int", min=1)

RANGE = AnyOf((Scalar("text", "'09:00-17:30'"),
               Fields({"open": Scalar("time"), "close": Scalar("time")}, ("open", "close"))))
DAY_HOURS = AnyOf((Scalar("text", "'09:00-17:30' or closed"), Items(RANGE),
                   Fields({"open": Scalar("time"), "close": Scalar("time")}, ("open", "close"))))
HOLIDAY = AnyOf((Scalar("date"), Fields({"date": Scalar("date"), "name": TEXT}, ("date",))))
SCHEDULE = Fields({
    "timezone": Scalar("timezone", "IANA zone, e.g. America/Los_Angeles"),
    "weekly": Named(DAY_HOURS, doc="days (mon-fri, sat,sun, daily) -> opening hours"),
    "calendar": Scalar("text", "closures from calendars.yaml", ref="calendar"),
    "holidays": Items(AnyOf((Scalar("day"), Fields({"date": Scalar("day"), "name": TEXT},
                                                    ("date",))))),
    "emergency_flag": TEXT,
}, ("timezone",))

CALLBACK = Fields({
    "enabled": Scalar("bool"), "mode": Scalar("text", choices=("agent_first", "customer_first")),
    "retries": Scalar("int", min=0), "retry_delay": SECONDS, "ring_timeout": COUNT,
    "countries": Items(TEXT, min_items=1), "max_per_number_per_day": COUNT,
})
RECORDING = Fields({
    "mode": Scalar("switch", "on: agent calls are recorded (dual channel); off: not"),
    "announcement": Scalar("text", "a prompt id, or the sentence the caller hears first"),
    "transcribe": Scalar("bool"),
})
QUEUE = Fields({
    "skill": Scalar("text", "the skill an agent needs", declares="skill"),
    "max_size": COUNT,
    "hours": Scalar("text", "a schedule under schedules:", ref="schedule"),
    "wrap_up_seconds": SECONDS,
    "disposition_required": Scalar("bool", "wrap-up lasts until the agent files a disposition"),
    "ring_timeout": COUNT,
    "service_level_target": POSITIVE,
    "hold_audio": TEXT,
    "relax": Items(Fields({"after": SECONDS, "min_level": LEVEL}, ("after", "min_level"))),
    "overflow": Fields({
        "after": SECONDS, "action": Scalar("text", choices=("queue", "voicemail", "widen")),
        "target": Scalar("text", ref="queue"), "skills": Items(Scalar("text", ref="skill")),
    }, ("action",)),
    "callback": CALLBACK,
    "recording": RECORDING,
}, ("skill",))
AGENT = Fields({
    "name": TEXT, "address": Scalar("text", "phone number or client:name"),
    "skills": Named(LEVEL, declares="skill"),
}, ("address",))
THRESHOLDS = Fields({
    "wait_warn": SECONDS, "wait_alert": SECONDS, "service_level_warn": Scalar("number", min=0,
                                                                             max=1),
    "service_level_alert": Scalar("number", min=0, max=1),
    "abandon_warn": Scalar("number", min=0, max=1),
    "abandon_alert": Scalar("number", min=0, max=1), "callback_overdue": SECONDS,
})
WALLBOARD = Fields({"defaults": THRESHOLDS, "queues": Named(THRESHOLDS, key_ref="queue")})
QUEUES_FILE = Fields({
    "queues": Named(QUEUE, declares="queue"),
    "business": Fields({"country": TEXT}),
    "schedules": Named(SCHEDULE, declares="schedule"),
    "reporting": Fields({"timezone": Scalar("timezone"), "short_abandon_seconds": SECONDS,
                         "repeat_window_hours": SECONDS}),
    "wallboard": WALLBOARD,
    "agents": Named(AGENT, declares="agent"),
    "engine": Fields({"lease_seconds": POSITIVE, "bridge_grace": SECONDS, "head": COUNT,
                      "recent": COUNT, "tick_seconds": POSITIVE}),
}, ("queues",))

LOOKUP_SOURCE = ByType({
    "csv": Fields({"path": TEXT, "key": TEXT}, ("path", "key")),
    "http": Fields({"url": TEXT, "timeout": POSITIVE}, ("url",)),
    "sql": Fields({"url": TEXT, "query": TEXT, "timeout": POSITIVE, "pool_size": COUNT},
                  ("url", "query")),
})
LOOKUPS_FILE = Fields({"sources": Named(LOOKUP_SOURCE, declares="source")})

PART_DAY = Fields({"date": Scalar("date"), "name": TEXT, "open": Scalar("time"),
                   "close": Scalar("time")}, ("date",))
CALENDAR = Fields({
    "public_holidays": Fields({
        "country": Scalar("text", "ISO 3166 code, e.g. US"),
        "subdivision": Scalar("text", "state or province code, e.g. CA"),
        "skip": Items(TEXT),
    }, ("country",)),
    "closed": Items(HOLIDAY),
    "part_days": Items(PART_DAY),
})
CALENDARS_FILE = Fields({"calendars": Named(CALENDAR, declares="calendar")}, ("calendars",))
