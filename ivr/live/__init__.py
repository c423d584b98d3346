"""The stream service: long-lived page streams (the wallboard's server-sent events), apart from
the web app that answers Twilio.

Why a process of its own (issue 12): a webhook server has a fixed thread budget (gunicorn's
workers x threads) and Twilio gives up on a webhook after 15 s. An SSE stream served by Flask
holds one of those threads for as long as a screen is open, so a dozen wall screens used to
starve `POST /voice`. Here a stream is a socket in one asyncio event loop (aiohttp), and ONE
producer computes the board once a second for every screen (fan-out), so neither threads nor
board computations grow with the number of screens.

- `settings.py`: the service's settings (client cap, session re-check period, pool sizes,
  allowed page origins), read from `Config`.
- `board_feed.py`: the one producer and its fan-out to every stream.
- `stream_auth.py`: the page's own session cookie, checked with Flask's session interface and
  `dashboards.auth.session_user_or_none` (the same check the pages use).
- `server.py`: the aiohttp application (`/wallboard/events`, `/healthz`, CORS).
- `running.py`: running it (signals, parent watch) and starting it beside `ivr serve`.

Must not be imported by the Flask app: it is its own process (`ivr streams`).
"""
