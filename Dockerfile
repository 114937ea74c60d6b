# The API image: `docker compose up` (docker-compose.yml) runs it behind a proxy with PostgreSQL
# and Redis; deploy/kubernetes/ runs it on Kubernetes. Base images are pinned to exact versions.

# Offline GraphiQL / Swagger UI assets, pinned in web/package-lock.json
FROM node:20.20.2-slim AS assets
WORKDIR /src
COPY web/package.json web/package-lock.json web/build.sh web/
RUN bash web/build.sh

FROM python:3.11.16-slim-trixie
# The same uv as the Makefile's UV_VERSION (a test keeps the two equal).
ARG UV_VERSION=0.13.9
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /srv
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app app
COPY auth auth
COPY persistence persistence
COPY plumbing plumbing
COPY resolvers resolvers
COPY rest_compat rest_compat
COPY schema schema
COPY --from=assets /src/app/static/vendor app/static/vendor
RUN uv sync --frozen --no-dev \
    && groupadd --system --gid 10001 todo \
    && useradd --system --uid 10001 --gid todo --no-create-home --shell /usr/sbin/nologin todo
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
ENV APP_ENV=production
EXPOSE 8000
# PORT (set by Render, Fly, Cloud Run) is the port to serve on; 8000 without it
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=2)"
CMD ["todo-api", "serve", "--host", "0.0.0.0"]
