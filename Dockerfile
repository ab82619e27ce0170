# Production image: gunicorn serving the app; the same image runs the worker and scheduler.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    TWOFOLD_ENV=production TWOFOLD_INSTANCE=/app/instance

WORKDIR /app
COPY platform/ platform/
COPY plugins/ plugins/
RUN pip install ./platform ./plugins/b2c ./plugins/b2b

COPY wsgi.py ./
COPY migrations/ migrations/
COPY tenants/ tenants/

RUN useradd --system --uid 10001 --home /app twofold \
    && mkdir -p /app/instance && chown twofold /app/instance
USER twofold

EXPOSE 8000
# SECRET_KEY, DATABASE_URL and REDIS_URL come from the environment (see docker-compose.yml).
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "4", \
     "--access-logfile", "-", "wsgi:app"]
