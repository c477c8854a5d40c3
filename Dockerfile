# PulseGate: a slim image that runs `pulsegate serve` as a non-root user on a data volume.
# Build: docker build -t pulsegate .   Run: docker compose up -d (compose.yaml), or
#        docker run -p 8787:8787 -v pulsegate-data:/data pulsegate

# The build stage installs PulseGate and its dependencies into a virtual environment; the runtime
# stage copies only that environment. Copying the wheels and installing them there instead left
# them in a layer of their own (56 MB) that a later `rm` cannot shrink.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md config.example.toml ./
COPY pulsegate ./pulsegate
COPY cli ./cli
COPY web_assets ./web_assets
COPY demo ./demo
# Bytecode is compiled here: the runtime user cannot write it next to the code, and compiling
# at every start would slow `pulsegate serve` and each `docker exec … pulsegate` command.
RUN python -m venv /opt/pulsegate \
    && /opt/pulsegate/bin/pip install --no-cache-dir . \
    && /opt/pulsegate/bin/pip uninstall -q -y pip setuptools wheel \
    && rm -rf /opt/pulsegate/lib/python3.11/site-packages/_distutils_hack

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin pulsegate \
    && mkdir -p /data && chown pulsegate /data
COPY --from=build /opt/pulsegate /opt/pulsegate
USER pulsegate
WORKDIR /data
VOLUME ["/data"]
ENV PATH=/opt/pulsegate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PULSEGATE_DATABASE=/data/pulsegate.duckdb \
    PULSEGATE_HOST=0.0.0.0 \
    PULSEGATE_PORT=8787
EXPOSE 8787
# Docker stops with SIGTERM and waits 10 s by default; the server drains for up to 30 s, so
# compose.yaml (and `docker stop -t 40`) give it the time to commit and checkpoint.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['PULSEGATE_PORT'], timeout=4)"
CMD ["pulsegate", "serve"]
