# Runs the screening service on the shipped demo data (or on REDLINE_HOME mounted as a volume).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    REDLINE_HOME=/var/lib/redline PIP_NO_CACHE_DIR=1

# Chromium prints PDF reports; Noto CJK renders the Chinese text in them.
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 redline \
 && mkdir -p /var/lib/redline && chown redline:redline /var/lib/redline

WORKDIR /opt/redline
COPY pyproject.toml README.md requirements.lock ./
COPY spatial ./spatial
COPY app ./app
COPY rules ./rules
COPY data ./data
RUN pip install -c requirements.lock -e .

USER redline
EXPOSE 8000
VOLUME ["/var/lib/redline"]
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["redline", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
