# syntax=docker/dockerfile:1
# The CMS image: one image for every process (web, worker pools, scheduler, migrations); the
# command chooses (compose.yaml, docs/operations.md). Build: docker build -t cms .

# --- builder: compilers, the virtualenv with every wheel, the compiled translations ----------
FROM python:3.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
# The runtime lock only (no embedded server, emulator or test tool), every file checked by hash
COPY requirements.lock /src/requirements.lock
RUN /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install --require-hashes -r /src/requirements.lock
COPY . /src
RUN /opt/venv/bin/pybabel compile --use-fuzzy -d /src/app/translations \
 && /opt/venv/bin/python -m compileall -q /src/app /src/migrations

# --- runtime: no compiler, no pip cache, a user without a shell ------------------------------
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    FLASK_APP=wsgi.py APP_ENV=production \
    MEDIA_ROOT=/data/media PROMETHEUS_MULTIPROC_DIR=/tmp/cms-metrics
RUN groupadd --system --gid 10001 cms \
 && useradd --system --uid 10001 --gid cms --home-dir /app --shell /usr/sbin/nologin cms \
 && mkdir -p /data/media /tmp/cms-metrics && chown cms:cms /data/media /tmp/cms-metrics
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The code belongs to root and is read-only for the app's user; only /data/media is writable.
COPY --from=builder /src/app /app/app
COPY --from=builder /src/migrations /app/migrations
COPY --from=builder /src/wsgi.py /src/worker.py /src/gunicorn.conf.py /app/
USER cms
VOLUME ["/data/media"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
