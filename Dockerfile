# cliquetish demo image: `docker compose up --build` (see docs/deployment.rst).
#
# Stage 1 builds every wheel (psycopg2 compiles against libpq); stage 2 only installs them, so
# the final image carries no compiler.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY setup.py setup.cfg pyproject.toml README.md ./
COPY cliquetish ./cliquetish
RUN pip wheel --wheel-dir /wheels ".[postgresql,redis,monitoring]" "gunicorn>=22"

FROM python:3.11-slim

ARG VCS_COMMIT=unknown
ARG VCS_SOURCE=https://github.com/cliquetish/cliquetish
ARG BUILD_URL=docker
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_WORKERS=2 \
    WEB_PORT=8888

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels "cliquetish[postgresql,redis,monitoring]" gunicorn \
    && rm -rf /wheels

RUN groupadd --system --gid 10001 cliquetish \
    && useradd --system --uid 10001 --gid cliquetish --home-dir /app --shell /usr/sbin/nologin \
       cliquetish
WORKDIR /app
COPY docker.ini ./
RUN python -c "import json, sys, cliquetish; json.dump({'source': sys.argv[1], \
'version': cliquetish.__version__, 'commit': sys.argv[2], 'build': sys.argv[3]}, \
open('version.json', 'w'))" "$VCS_SOURCE" "$VCS_COMMIT" "$BUILD_URL" \
    && chown -R cliquetish:cliquetish /app

USER cliquetish
EXPOSE 8888

# Apply the schema (idempotent), then serve with gunicorn's sync workers.
CMD ["sh", "-c", "cliquetish migrate --ini docker.ini && exec gunicorn --paste docker.ini --bind 0.0.0.0:${WEB_PORT} --workers ${WEB_WORKERS} --worker-class sync --timeout 30 --graceful-timeout 20 --max-requests 10000 --max-requests-jitter 1000"]
