# One image for web (ASGI), worker and beat; the command picks the role.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 app

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# Static files are collected at build time with a throw-away key; the real one comes from the environment.
RUN DEBUG=False SECRET_KEY=build-only-key-build-only-key-build-only-key-0000 ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
    && chown -R app:app /app
USER app

EXPOSE 8000
CMD ["python", "-m", "server.serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--ws-per-message-deflate", "false"]
