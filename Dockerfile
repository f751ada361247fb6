# One image for every role of the production topology (web, watch, worker, scheduler).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mailservice ./mailservice
COPY templates ./templates
COPY signatures ./signatures
COPY config ./config
RUN pip install --no-cache-dir .
RUN useradd --system --home /app mailservice && mkdir -p /data /outbox \
 && chown mailservice /data /outbox
USER mailservice
ENV MAILSERVICE_DATA_DIR=/data MAILSERVICE_OUTBOX_DIR=/outbox
