# bench/anchors_hook.sh -- HOOK_FILE for /work/shared/anchors/run_anchors.sh: puts our service
# ("product") into the same run and table as pgbench and PostGraphile.
#
#   d=$(mktemp -d) && chmod 755 "$d" && cp -r /work/shared/anchors "$d/" && cd "$d/anchors"
#   (cd postgraphile && npm ci)
#   HOOK_FILE="$REPO/bench/anchors_hook.sh" ./run_anchors.sh          # ROUNDS=2 for repeats
#   HOOK_FILE="$REPO/bench/anchors_hook.sh" SYSTEMS=pgbench ./run_anchors.sh   # skip PostGraphile
#
# Sourced by run_anchors.sh (bash, set -uo pipefail); extra_systems() runs once per round
# after the anchors and uses its helpers (start_bg, wait_http, bench_http_system, stop_bg,
# port_free, record, log) and variables (PGPORT, PGDATA_DIR, JWT_SECRET, LOGDIR, ROUND).
#
# The anchors' "bench" database has their own, smaller schema (tasks without status/priority/
# due_date/version, no users table), so on the first round the hook:
#   1. (re)creates database todo_anchor (owner bench) on the anchors' private cluster,
#   2. runs our migrations there (`todo-api migrate`, as role bench),
#   3. copies the anchors' rows: one users row per distinct user_id, and every task with the
#      SAME id, user_id, title, description, timestamps and completed flag; status/priority/
#      due_date are derived deterministically (completed -> 'completed').
# The wrk scripts then hit real rows: users/task ids come from the anchors' data/users.txt,
# tokens are theirs (HS256, sub = user id, secret JWT_SECRET -> our BETTER_AUTH_SECRET).
# Our Task type has no owner field, so queries/product_*.graphql also ask for `me { id }`:
# run_anchors.sh's GraphQL smoke check wants the user id in the answer. Because that check
# would pass with task: null too, the hook first checks that task(id:) returns the id asked.
#
# Knobs: PRODUCT_PORT=8000 PRODUCT_WORKERS=2 PRODUCT_MODES=rest,gql PRODUCT_DB=todo_anchor
#        PRODUCT_POOL_SIZE=20 PRODUCT_MAX_OVERFLOW=0 PRODUCT_RESEED=0 (1: copy data every round)
#        PRODUCT_DIR=<this repo> PRODUCT_CMD="<todo-api command>"

PRODUCT_BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PRODUCT_DIR=${PRODUCT_DIR:-$(dirname "$PRODUCT_BENCH_DIR")}
PRODUCT_PORT=${PRODUCT_PORT:-8000}
PRODUCT_WORKERS=${PRODUCT_WORKERS:-2}
PRODUCT_MODES=${PRODUCT_MODES:-rest,gql}
PRODUCT_DB=${PRODUCT_DB:-todo_anchor}
PRODUCT_POOL_SIZE=${PRODUCT_POOL_SIZE:-20}
PRODUCT_MAX_OVERFLOW=${PRODUCT_MAX_OVERFLOW:-0}
PRODUCT_RESEED=${PRODUCT_RESEED:-0}
if [ -z "${PRODUCT_CMD:-}" ]; then
  make --no-print-directory -C "$PRODUCT_DIR" .venv/.synced > /dev/null
  PRODUCT_CMD="$PRODUCT_DIR/.venv/bin/todo-api"
fi
_PRODUCT_READY=0

_product_psql() {  # _product_psql DB ARGS... : superuser over the private cluster's socket
  local db=$1; shift
  su postgres -c "psql -h '$PGDATA_DIR' -p $PGPORT -v ON_ERROR_STOP=1 -qXAt -d $db $*"
}

# Environment of our service/CLI in production mode against todo_anchor. Run from $LOGDIR so
# that no .env of the checkout leaks in (every setting is explicit here).
_product_env() {
  echo APP_ENV=production \
    DATABASE_URL="postgresql://bench:bench@127.0.0.1:$PGPORT/$PRODUCT_DB" \
    BETTER_AUTH_SECRET="$JWT_SECRET" \
    RATE_LIMIT=1000000/minute RATE_LIMIT_ANONYMOUS=1000000/minute MAX_REQUESTS_IN_FLIGHT_PER_USER=10000 \
    DB_POOL_SIZE="$PRODUCT_POOL_SIZE" DB_MAX_OVERFLOW="$PRODUCT_MAX_OVERFLOW" LOG_LEVEL=warning
}

_product_prepare() {
  log "product: (re)creating $PRODUCT_DB, migrating, copying the anchors' rows"
  _product_psql postgres -c "'DROP DATABASE IF EXISTS $PRODUCT_DB WITH (FORCE)'" \
    -c "'CREATE DATABASE $PRODUCT_DB OWNER bench'" || return 1
  # shellcheck disable=SC2046
  (cd "$LOGDIR" && env $(_product_env) timeout 300 $PRODUCT_CMD migrate) \
    > "$LOGDIR/product-migrate.log" 2>&1 || { log "product: migrate failed, see $LOGDIR/product-migrate.log"; return 1; }
  _product_psql bench -c "\"COPY (SELECT user_id, user_id || '@anchors.example', NULL, min(created_at), min(created_at)
        FROM tasks WHERE user_id NOT LIKE 'ins\\_user\\_%' GROUP BY user_id) TO STDOUT\"" \
    | _product_psql "$PRODUCT_DB" -c "'COPY users (id, email, name, created_at, updated_at) FROM STDIN'" \
    || return 1
  _product_psql bench -c "\"COPY (
      SELECT id, user_id, title, description, completed,
             CASE WHEN completed THEN updated_at END,
             CASE WHEN completed THEN 'completed'
                  WHEN (('x' || substr(md5(id::text), 1, 8))::bit(32)::int & 2147483647) % 3 = 0
                  THEN 'in_progress' ELSE 'pending' END,
             (ARRAY['low', 'medium', 'medium', 'high'])
               [1 + (('x' || substr(md5(id::text), 9, 8))::bit(32)::int & 2147483647) % 4],
             CASE WHEN (('x' || substr(md5(id::text), 17, 8))::bit(32)::int & 2147483647) % 5 < 3
                  THEN created_at + interval '7 days' END,
             created_at, updated_at, 1
        FROM tasks WHERE user_id NOT LIKE 'ins\\_user\\_%') TO STDOUT\"" \
    | _product_psql "$PRODUCT_DB" -c "'COPY tasks (id, user_id, title, description, completed, completed_at,
        status, priority, due_date, created_at, updated_at, version) FROM STDIN'" || return 1
  _product_psql "$PRODUCT_DB" -c "'VACUUM (ANALYZE) users'" -c "'VACUUM (ANALYZE) tasks'"
  log "product: $(_product_psql "$PRODUCT_DB" -c "\"SELECT count(*) || ' tasks, ' || (SELECT count(*) FROM users) || ' users' FROM tasks\"")"
}

_product_check_get() {  # the GraphQL get must return the very task asked for (not null)
  local u tok id body
  read -r u tok id _ < "$BENCH/data/users.txt"
  body=$(python3 - "$PRODUCT_BENCH_DIR/queries/product_get.graphql" "$u" "$id" <<'PY'
import json, sys
q, u, i = sys.argv[1:]
print(json.dumps({"query": open(q).read(), "variables": {"id": i, "userId": u}}))
PY
)
  body=$(curl -s -m 10 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
         -d "$body" "$1/graphql")
  echo "$body" | grep -q "\"id\": *\"$id\"" || { log "product: gql_get check: $body"; return 1; }
}

extra_systems() {
  if ! port_free "$PRODUCT_PORT"; then
    record rest_list product 0 - - - PORT_BUSY 0 "$(load1)"; return 0
  fi
  if [ "$_PRODUCT_READY" != 1 ] || [ "$PRODUCT_RESEED" = 1 ]; then
    if ! _product_prepare; then
      record rest_list product 0 - - - PREPARE_FAIL 0 "$(load1)"; return 0
    fi
    _PRODUCT_READY=1
  fi
  # shellcheck disable=SC2046
  start_bg product env -C "$LOGDIR" $(_product_env) $PRODUCT_CMD serve \
    --host 127.0.0.1 --port "$PRODUCT_PORT" --workers "$PRODUCT_WORKERS"
  if wait_http "http://127.0.0.1:$PRODUCT_PORT/health" 90; then
    sleep 1  # let the other workers finish importing
    local modes="" wl
    for wl in rest_list rest_get gql_list gql_get; do
      [[ ",$PRODUCT_MODES," == *",${wl%%_*},"* || ",$PRODUCT_MODES," == *",$wl,"* ]] && modes+="$wl,"
    done
    if [[ $modes == *gql_get* ]] && ! _product_check_get "http://127.0.0.1:$PRODUCT_PORT"; then
      record gql_get product 0 - - - CHECK_FAIL 0 "$(load1)"
      modes=${modes/gql_get,/}
    fi
    bench_http_system product "http://127.0.0.1:$PRODUCT_PORT" "${modes%,}" \
      "$PRODUCT_BENCH_DIR/queries/product_list.graphql" "$PRODUCT_BENCH_DIR/queries/product_get.graphql"
  else
    log "product: no /health answer; log: $LOGDIR/product.log"
    record rest_list product 0 - - - START_FAIL 0 "$(load1)"
  fi
  stop_bg product
}
