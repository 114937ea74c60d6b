#!/usr/bin/env bash
# Copy the pinned GraphiQL / Swagger UI assets from web/node_modules into app/static/vendor/.
# Usage: bash web/build.sh   (runs `npm ci` first when node_modules is missing or stale)
# Output (generated, gitignored): app/static/vendor/
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$web/../app/static/vendor"
nm="$web/node_modules"

if [[ ! -f "$nm/.package-lock.json" || "$web/package-lock.json" -nt "$nm/.package-lock.json" ]]; then
  (cd "$web" && npm ci --ignore-scripts --no-audit --no-fund)
fi

copy() {  # copy <dest-subdir> <package-relative files...>
  local dest="$out/$1"; shift
  mkdir -p "$dest"
  for f in "$@"; do cp "$nm/$f" "$dest/"; done
}

rm -rf "$out"
copy react react/umd/react.production.min.js react/LICENSE
copy react-dom react-dom/umd/react-dom.production.min.js react-dom/LICENSE
copy graphiql graphiql/graphiql.min.js graphiql/graphiql.min.css graphiql/LICENSE
copy graphiql-plugin-explorer \
  @graphiql/plugin-explorer/dist/index.umd.js @graphiql/plugin-explorer/dist/style.css \
  @graphiql/plugin-explorer/package.json
copy swagger-ui swagger-ui-dist/swagger-ui-bundle.js swagger-ui-dist/swagger-ui.css \
  swagger-ui-dist/favicon-32x32.png swagger-ui-dist/LICENSE swagger-ui-dist/NOTICE

node -e '
  const lock = require(process.argv[1]).packages;
  const pins = ["react", "react-dom", "graphiql", "@graphiql/plugin-explorer", "swagger-ui-dist"];
  const v = Object.fromEntries(pins.map((p) => [p, lock["node_modules/" + p].version]));
  process.stdout.write(JSON.stringify(v, null, 2) + "\n");
' "$web/package-lock.json" > "$out/versions.json"
echo "vendored into $out:"; cat "$out/versions.json"
