# Multi-stage build: wheels are built in the first stage, the runtime image has no compiler.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ivr ./ivr
COPY queue_worker ./queue_worker
COPY dashboards ./dashboards
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg espeak-ng curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 ivr
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
WORKDIR /app
COPY --chown=ivr:ivr callflows ./callflows
COPY --chown=ivr:ivr prompts ./prompts
COPY --chown=ivr:ivr data ./data
COPY --chown=ivr:ivr lookups.yaml queues.yaml gunicorn.conf.py ./
# The instance folder holds the local spool of status callbacks that arrived while Redis was
# away (ivr/outcomes/spool.py): writable by the app user, and a volume in compose.yaml.
RUN mkdir -p /app/instance && chown ivr:ivr /app/instance
USER ivr
ENV IVR_FLOWS_DIR=/app/callflows IVR_PROMPTS_CATALOG=/app/prompts/catalog.yaml \
    IVR_PROMPTS_AUDIO_DIR=/app/prompts/audio IVR_QUEUES_FILE=/app/queues.yaml \
    IVR_INSTANCE_DIR=/app/instance
RUN ivr prompts build || echo "prompt audio not built; calls use <Say>"
# 5000: the web app (webhooks, pages). 5001: the wallboard's stream service (ivr streams),
# which `ivr serve` starts beside gunicorn in this container; route /wallboard/events to it
# (docs/deployment.md). compose.yaml runs it as a service of its own (`--no-streams` here).
EXPOSE 5000 5001
HEALTHCHECK --interval=15s --timeout=3s CMD curl -fsS http://127.0.0.1:5000/healthz || exit 1
# Run with SECRET_KEY (32+ random bytes) and TWILIO_AUTH_TOKEN in the environment: without a
# strong SECRET_KEY the server refuses to start (ivr/config/settings.py); IVR_PROXY_HOPS=1 behind a proxy.
CMD ["ivr", "serve", "--gunicorn", "--host", "0.0.0.0", "--port", "5000"]
