# syntax=docker/dockerfile:1
# One image for every service and process (the default, last stage); docker-compose.yml / k8s set the command
# per container:
#   web      gunicorn -c deploy/gunicorn/gunicorn.conf.py "<name>.entrypoints.web:create_app()"
#   worker   python -m <name>.entrypoints.worker
#   migrate  python -m <name>.entrypoints.cli migrate
# and the gateway's image (`--target gateway`): nginx with the built portal and Swagger UI's files.

# ---- portal: the Vue front end built to static files (portal/dist), from its lock file
FROM node:20-alpine AS portal
WORKDIR /portal
COPY portal/package.json portal/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY portal ./
RUN npm run build

# ---- swagger-ui: Swagger UI's own files for /openapi/<service>/docs (no CDN), from deploy/swagger-ui's lock file
FROM node:20-alpine AS swagger-ui
WORKDIR /swagger-ui
COPY deploy/swagger-ui/package.json deploy/swagger-ui/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

# ---- gateway: nginx (unprivileged: any UID, writes only under /tmp) serving both beside the API routes; its
# nginx.conf is deploy/nginx/nginx.compose.conf (compose mounts it, k8s mounts the same text from a ConfigMap).
FROM nginxinc/nginx-unprivileged:1.27-alpine AS gateway
COPY deploy/nginx/nginx.compose.conf /etc/nginx/nginx.conf
COPY --from=portal /portal/dist /usr/share/nginx/portal
COPY --from=swagger-ui /swagger-ui/node_modules/swagger-ui-dist /usr/share/nginx/swagger-ui
USER 101
HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8080/gateway/health || exit 1
EXPOSE 8080

# ---- build: wheels of the locked dependencies (requirements/runtime.txt: versions and hashes checked here) and of
# the project; the runtime stage installs from these wheels only (no index, no compilers in the final image)
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/runtime.txt ./requirements/
RUN pip wheel --require-hashes --wheel-dir /wheels -r requirements/runtime.txt
COPY pyproject.toml setup.py ./
COPY shared ./shared
COPY services ./services
RUN pip wheel --no-deps --wheel-dir /wheels .
# Each service's Alembic migrations (and alembic.ini if it has one), keeping services/<name>/ paths;
# a COPY glob would flatten them, so gather them here for any number of services.
RUN set -eu; mkdir -p /out/services; \
    for dir in services/*/; do \
      name=$(basename "$dir"); mkdir -p "/out/services/$name"; \
      if [ -d "$dir/migrations" ]; then cp -r "$dir/migrations" "/out/services/$name/"; fi; \
      if [ -f "$dir/alembic.ini" ]; then cp "$dir/alembic.ini" "/out/services/$name/"; fi; \
    done; \
    find /out -name __pycache__ -prune -exec rm -rf {} +

# ---- runtime
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
# WeasyPrint (the printable 推荐表) needs Pango and HarfBuzz's subsetter; one CJK font face renders Chinese.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv \
    && groupadd --system --gid 10001 cio \
    && useradd --system --uid 10001 --gid cio --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin cio
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels cio-platform
WORKDIR /app
# gunicorn settings (and the rest of deploy/, small, for reference by path).
COPY deploy ./deploy
COPY --from=build /out/services ./services
# Where shared.migrations finds services/<name>/alembic.ini and migrations/.
ENV CIO_SERVICES_DIR=/app/services
# Code and migrations stay root-owned and read-only to the app; it writes only to /tmp.
USER 10001:10001
EXPOSE 8000 9100
# Default: the web process of the service named by SERVICE_NAME.
CMD ["sh", "-c", "exec gunicorn -c deploy/gunicorn/gunicorn.conf.py \"${SERVICE_NAME:?set SERVICE_NAME}.entrypoints.web:create_app()\""]
