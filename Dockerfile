# The API image: `docker compose up` (docker-compose.yml) runs it with PostgreSQL and Redis.

# Offline GraphiQL / Swagger UI assets, pinned in web/package-lock.json
FROM node:20-slim AS assets
WORKDIR /src
COPY web/package.json web/package-lock.json web/build.sh web/
RUN bash web/build.sh

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install --no-cache-dir uv
WORKDIR /srv
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app app
COPY auth auth
COPY persistence persistence
COPY resolvers resolvers
COPY rest_compat rest_compat
COPY schema schema
COPY --from=assets /src/app/static/vendor app/static/vendor
RUN uv sync --frozen --no-dev && useradd --system --uid 10001 todo
USER todo
ENV APP_ENV=production
EXPOSE 8000
# PORT (set by Render, Fly, Cloud Run) is the port to serve on; 8000 without it
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=2)"
CMD ["todo-api", "serve", "--host", "0.0.0.0"]
