# PulseGate: a slim image that runs `pulsegate serve` as a non-root user on a data volume.
# Build: docker build -t pulsegate .   Run: docker run -p 8787:8787 -v pulsegate-data:/data pulsegate

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md config.example.toml ./
COPY pulsegate ./pulsegate
COPY cli ./cli
COPY web_assets ./web_assets
COPY demo ./demo
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin pulsegate \
    && mkdir -p /data && chown pulsegate /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER pulsegate
WORKDIR /data
VOLUME ["/data"]
ENV PULSEGATE_DATABASE=/data/pulsegate.duckdb \
    PULSEGATE_HOST=0.0.0.0 \
    PULSEGATE_PORT=8787
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['PULSEGATE_PORT'], timeout=4)"
CMD ["pulsegate", "serve"]
