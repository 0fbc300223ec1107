#!/usr/bin/env bash
# The whole test suite, as the README's test command (`npm test`) runs it:
#   0. makes sure the mediasoup worker binary exists (built once into ~/.cache/quorum, see
#      docs/mediasoup.md) and exports MEDIASOUP_WORKER_BIN for the SFU's integration tests,
#   1. installs npm dependencies when node_modules is missing or stale,
#   2. installs (from Debian's packages) and starts Postgres, NATS JetStream and Redis on 127.0.0.1,
#   3. lints (ESLint with the workspace boundaries, then Prettier's check): fails on any error,
#   4. typechecks every workspace,
#   5. runs the unit tier, then the integration tier against those real servers,
#   6. builds the web app and runs the browser tier (Debian's Chromium, installed when missing)
#      against Quorum started as `npm start` starts it.
# Every step runs even when an earlier one failed; the run ends with one line over all of them,
# "N passed, N failed", and exits non-zero if anything failed. A missing service fails the run;
# nothing is skipped. Each tier's vitest JSON report is kept in test-results/tiers/.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."
source scripts/test-env.sh

REPORTS=test-results/tiers
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
steps=()

echo "[test] lint"
rc=0
npm run --silent lint || rc=$?
npm run --silent format:check || rc=$?
steps+=("lint:$rc")

echo "[test] typecheck"
rc=0
npx turbo run typecheck --output-logs=errors-only || rc=$?
# The root project: vitest.config.ts, load-tests/bench and the cross-service tests in test/.
npx tsc --noEmit -p tsconfig.json || rc=$?
steps+=("typecheck:$rc")

echo "[test] unit tier"
run_tier unit "$REPORTS/unit.json" || true

echo "[test] integration tier (Postgres, NATS, Redis, mediasoup)"
run_tier int "$REPORTS/int.json" || true

echo "[test] building the web app"
rc=0
npm run build -w @quorum/web || rc=$?
steps+=("web build:$rc")

echo "[test] browser tier (Chromium against the embedded default)"
run_tier browser "$REPORTS/browser.json" || true

echo "[test] summary"
node scripts/vitest-report.mjs summary "${steps[@]}" unit="$REPORTS/unit.json" int="$REPORTS/int.json" browser="$REPORTS/browser.json" | tee "$REPORTS/summary.txt"
tail -n 1 "$REPORTS/summary.txt" | grep -q ' 0 failed$'
