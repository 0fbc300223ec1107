#!/usr/bin/env bash
# The whole test suite, as the README's test command (`npm test`) runs it:
#   0. makes sure the mediasoup worker binary exists (built once into ~/.cache/quorum, see
#      docs/mediasoup.md) and exports MEDIASOUP_WORKER_BIN for the SFU's integration tests,
#   1. installs npm dependencies when node_modules is missing or stale,
#   2. installs (from Debian's packages) and starts Postgres, NATS JetStream and Redis on 127.0.0.1,
#   3. typechecks every workspace,
#   4. runs the unit tier, then the integration tier against those real servers,
#   5. builds the web app and runs the browser tier (Debian's Chromium, installed when missing)
#      against Quorum started as `npm start` starts it.
# A missing service fails the run; nothing is skipped.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."

# Before `npm ci` too: with MEDIASOUP_WORKER_BIN set, mediasoup's postinstall does nothing even on
# an npm that ignores the root package.json's allowScripts denial.
echo "[test] mediasoup worker"
MEDIASOUP_WORKER_BIN="$(scripts/mediasoup-worker.sh)"
export MEDIASOUP_WORKER_BIN

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[test] installing npm dependencies"
  npm ci --no-audit --no-fund
fi

echo "[test] starting backing services"
scripts/services.sh start
eval "$(scripts/services.sh env)"
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://quorum:quorum@127.0.0.1:5432/quorum_test}"
export NATS_URL REDIS_URL

echo "[test] typecheck"
npx turbo run typecheck --output-logs=errors-only

echo "[test] unit tier"
npx vitest run --project unit

echo "[test] integration tier (Postgres, NATS, Redis, mediasoup)"
npx vitest run --project int

if [[ ! -x /usr/bin/chromium ]]; then
  echo "[test] installing Chromium (Debian package) for the browser tier"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

echo "[test] building the web app"
npm run build -w @quorum/web

echo "[test] browser tier (Chromium against the embedded default)"
npx vitest run --project browser
