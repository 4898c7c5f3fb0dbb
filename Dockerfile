# footfall for production: one image, any component by command, on a ClickHouse server.
#
#   docker build -t footfall .
#   docker run footfall collector --port 8000      (or aggregator, dashboard, migrate)
#
# The embedded ClickHouse (the `embedded` extra, chdb) is left out: in this image
# FOOTFALL_CLICKHOUSE_DSN names a ClickHouse server (http://user:pass@host:8123/db).
# Settings are FOOTFALL_* variables: README.md, "Configuration".

FROM python:3.11.9-slim-bookworm AS build
# A compiler only here, for any dependency without a wheel for this platform.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/footfall
ENV PATH=/opt/footfall/bin:$PATH
WORKDIR /src
# The dependencies first (a layer that changes only with pyproject.toml), then the code.
COPY pyproject.toml README.md ./
RUN mkdir footfall collector aggregator dashboard app \
    && pip install --no-cache-dir . \
    && pip uninstall -y footfall
COPY footfall footfall
COPY collector collector
COPY aggregator aggregator
COPY dashboard dashboard
COPY app app
# No extra: chdb stays out (the check after the install fails the build otherwise).
RUN pip install --no-cache-dir --no-deps . \
    && python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('chdb') is not None)"

FROM python:3.11.9-slim-bookworm
COPY --from=build /opt/footfall /opt/footfall
ENV PATH=/opt/footfall/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FOOTFALL_DATA_DIR=/var/lib/footfall \
    FOOTFALL_HOST=0.0.0.0 \
    FOOTFALL_LOG_FORMAT=json
# Not root: a fixed uid, so a mounted data dir can be given to it.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/footfall --create-home footfall
USER footfall
WORKDIR /var/lib/footfall
EXPOSE 8000
# The servers (collector, dashboard, aggregator) answer /health on port 8000 in their
# container; docker-compose.yml checks the aggregator's /ready instead and migrate not at all.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "footfall.healthcheck", "http://127.0.0.1:8000/health"]
# The process runs as PID 1 (exec form): SIGTERM from `docker stop` reaches footfall,
# which shuts down gracefully (README.md, "Production with Docker Compose").
ENTRYPOINT ["footfall"]
CMD ["--help"]
