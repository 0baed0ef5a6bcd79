# The BestBox agent service (compose service agent-api; built by `stackgen apply`).
# Configuration comes from the environment compose sets (DATABASE_URL without a
# password, PGPASSWORD from the env file, LLM_BASE_URL, OTEL_EXPORTER_OTLP_ENDPOINT).
FROM python:3.11.9-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# The service builds its metrics from the stackgen catalog (specs/), so it installs the
# whole package; tests and generated files stay out (.dockerignore).
COPY pyproject.toml ./
COPY stackgen ./stackgen
COPY specs ./specs
COPY agent_service ./agent_service
RUN pip install . && rm -rf /src

# Never root: the service needs no privilege. The audit spool's directory is created
# here, owned by the service, so the named volume compose mounts on it starts with that
# owner (Docker copies a mount point's ownership into a new named volume).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin bestbox \
    && mkdir -p /var/lib/bestbox/spool \
    && chown bestbox /var/lib/bestbox/spool
USER bestbox
WORKDIR /home/bestbox

EXPOSE 8000
CMD ["agent-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
