# One image, several entrypoints: `swarmdesk serve --migrate` (default), `swarmdesk migrate`, ...
# The console is built in a Node stage; only its built files reach the image.
FROM node:20-slim AS console
WORKDIR /src/console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY console ./
RUN npx vite build

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SWARMDESK_HOST=0.0.0.0 SWARMDESK_PORT=8000 SWARMDESK_DATA_DIR=/data
WORKDIR /srv/swarmdesk
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY app app
COPY --from=console /src/app/http/console_assets app/http/console_assets
COPY domain domain
COPY projections projections
COPY migrations migrations
RUN pip install -c constraints.txt . && useradd --create-home --uid 10001 swarmdesk \
    && mkdir -p /data && chown swarmdesk /data
USER swarmdesk
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["swarmdesk"]
CMD ["serve", "--migrate"]
