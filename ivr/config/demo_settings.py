"""`ivr demo`'s settings: how often its simulated agents put a caller on hold and transfer
calls, through the console's own floor moves against the stand-in, and how many threads
carry that out (ivr/commands/demo_floor.py).

Part of `Config` (ivr/config/settings.py), which inherits them: one typed object still holds
every setting, and the README table lists these after the product's own. Kept in a module of
their own so settings.py stays a readable size. Must not import anything of the product
beyond the settings helpers.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings

from ivr.config.settings_source import env


class DemoSettings(BaseSettings):
    """The demo's simulated agents on the floor. Rates are shares of the calls they answer."""

    demo_hold_rate: float = env(
        "IVR_DEMO_HOLD_RATE", "`ivr demo`: share of the simulated agents' answered calls on "
        "which they put the caller on hold once, then resume", 0.25, ge=0, le=1)
    demo_hold_seconds: float = env(
        "IVR_DEMO_HOLD_SECONDS", "`ivr demo`: mean seconds of one such hold (each is drawn "
        "from half to one and a half times this; the stand-in's agents talk 30 s)", 6.0,
        gt=0, le=300)
    demo_transfer_rate: float = env(
        "IVR_DEMO_TRANSFER_RATE", "`ivr demo`: share of the simulated agents' answered calls "
        "they transfer", 0.12, ge=0, le=1)
    demo_warm_share: float = env(
        "IVR_DEMO_WARM_SHARE", "`ivr demo`: of those transfers, the share that are warm "
        "(consult a free colleague while the caller holds, then complete); the rest are cold",
        0.5, ge=0, le=1)
    demo_queue_share: float = env(
        "IVR_DEMO_QUEUE_SHARE", "`ivr demo`: of the cold transfers, the share sent to another "
        "queue rather than to a free agent", 0.4, ge=0, le=1)
    demo_floor_threads: int = env(
        "IVR_DEMO_FLOOR_THREADS", "`ivr demo`: threads carrying out the simulated agents' "
        "holds and transfers at once (a call answered while all are busy gets no move)", 4,
        ge=1, le=64)
