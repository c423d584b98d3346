"""Settings and what every feature shares: the environment's settings (settings.py),
queues.yaml (queues.py, queue_callbacks.py, reporting.py), line numbers for YAML errors,
structured logs that mask phone numbers, Prometheus metrics. Above the store, below the
features; must not import Flask views, workers or the composition root (ivr/app/).
"""
