FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/vyraj.sqlite3

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY services ./services
COPY locales ./locales
COPY knowledge ./knowledge

RUN pip install -e . \
    && pybabel compile -d locales -D messages \
    && useradd --create-home --uid 10001 vyraj \
    && mkdir -p /data && chown vyraj:vyraj /data

USER vyraj
VOLUME ["/data"]
ENTRYPOINT ["vyraj"]
CMD ["run"]
