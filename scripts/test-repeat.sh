#!/usr/bin/env bash
# Runs the integration and browser tiers N times on the same services, to find tests that fail
# only sometimes. Prints, after each round and at the end, which tests failed in which round.
#
#   scripts/test-repeat.sh [N=5]        TIERS="int" scripts/test-repeat.sh 10   (one tier only)
#
# Reports: test-results/repeat/<round>-<tier>.json. Exits non-zero if any round had a failure.
# Load the machine beside it (for example `npm run bench` in another shell) for some rounds: a
# test that passes only on a quiet machine is not green.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/test-repeat.sh [rounds]" >&2; exit 2; }
TIERS="${TIERS:-int browser}"
source scripts/test-env.sh

REPORTS=test-results/repeat
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
if [[ " $TIERS " == *" browser "* ]]; then
  echo "[repeat] building the web app"
  npm run build -w @quorum/web
fi

for ((round = 1; round <= ROUNDS; round++)); do
  for tier in $TIERS; do
    started=$SECONDS
    echo "[repeat] round $round/$ROUNDS: $tier tier (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    run_tier "$tier" "$REPORTS/$round-$tier.json" >"$REPORTS/$round-$tier.log" 2>&1 || true
    failed="$(node scripts/vitest-report.mjs failed "$REPORTS/$round-$tier.json")"
    if [[ -z "$failed" ]]; then
      echo "[repeat] round $round $tier: passed in $((SECONDS - started)) s"
    else
      echo "[repeat] round $round $tier: FAILED in $((SECONDS - started)) s (log: $REPORTS/$round-$tier.log)"
      sed 's/^/[repeat]   /' <<<"$failed"
    fi
  done
done

echo "[repeat] failures over $ROUNDS rounds:"
any=0
for ((round = 1; round <= ROUNDS; round++)); do
  for tier in $TIERS; do
    while IFS= read -r name; do
      [[ -n "$name" ]] || continue
      any=1
      echo "[repeat]   round $round $tier: $name"
    done < <(node scripts/vitest-report.mjs failed "$REPORTS/$round-$tier.json")
  done
done
((any == 0)) && echo "[repeat]   none"
exit "$any"
