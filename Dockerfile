# Slim, non-root image running `jtai serve`. Configure it with JTAI_* environment variables.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    JTAI_VAR_DIR=/var/lib/jtai
RUN groupadd --system jtai && useradd --system --gid jtai --home /srv/jtai jtai \
    && mkdir -p /var/lib/jtai && chown jtai:jtai /var/lib/jtai
WORKDIR /srv/jtai
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY jtai_client ./jtai_client
COPY migrations ./migrations
RUN pip install -e .
USER jtai
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["jtai", "serve", "--host", "0.0.0.0", "--port", "8000"]
