"""The load generator behind `ivr load`: a whole call centre on 127.0.0.1 (app under gunicorn,
a worker, the Twilio stand-in) and many simulated callers at once, with per-webhook timings."""
