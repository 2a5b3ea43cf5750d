# Build stage: the wheel, with the gettext catalogs compiled into it.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements-dev.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-dev.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY storage ./storage
COPY knowledge ./knowledge
COPY locales ./locales
RUN pybabel compile -d locales -D messages \
    && pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist .

# Runtime stage: the locked dependencies first, so a code change reinstalls only the wheel.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes -r /tmp/requirements.lock && rm /tmp/requirements.lock
COPY --from=build /dist/ /tmp/dist/
# /vault: KEY_VAULT_DIR on PostgreSQL, a volume shared by the instances and never backed up.
RUN pip install --no-deps /tmp/dist/*.whl && rm -r /tmp/dist \
    && useradd --create-home --uid 10001 vyraj \
    && mkdir -p /data /vault && chown vyraj:vyraj /data /vault

# The database lives in the volume. Working in /data too keeps a relative DATABASE_URL from an
# old .env inside the volume, where the non-root user can write.
ENV DATABASE_URL=sqlite:////data/vyraj.sqlite3
USER vyraj
WORKDIR /data
VOLUME ["/data"]
# Also on PostgreSQL: the server answers, and the heartbeat in this container's /tmp is there.
HEALTHCHECK --interval=60s --timeout=15s --start-period=60s --retries=3 CMD ["vyraj", "health"]
ENTRYPOINT ["vyraj"]
CMD ["run"]
