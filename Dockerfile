# Sitroom: the COP web app. `docker run -p 8050:8050 sitroom` starts the demo on the embedded
# store; pass SITROOM_DATABASE_URL and the command `sitroom serve` for a PostGIS deployment.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SITROOM_DATA_DIR=/data \
    SITROOM_HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dashboard ./dashboard
COPY config ./config
COPY geodata ./geodata
RUN pip install --no-cache-dir -e . \
    && useradd --system --home /app sitroom \
    && mkdir -p /data && chown sitroom /data

USER sitroom
VOLUME /data
EXPOSE 8050
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/healthz')"
CMD ["sitroom", "demo"]
