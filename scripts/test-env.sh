# Sourced by scripts/test-all.sh and scripts/test-repeat.sh: everything the tiers need, made
# ready once. The mediasoup worker (built when missing, exported as MEDIASOUP_WORKER_BIN), npm
# dependencies when missing or stale, Postgres, NATS JetStream and Redis (from Debian's packages)
# and stripe-mock (go install) on 127.0.0.1, each installed when missing, and Debian's Chromium
# for the browser tier. Defines
# run_tier <project> <json report>.

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
export NATS_URL REDIS_URL STRIPE_MOCK_URL

if [[ ! -x /usr/bin/chromium ]]; then
  echo "[test] installing Chromium (Debian package) for the browser tier"
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
fi

# The non-TypeScript client tests (test/clients) run Python from a virtual environment they make.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "[test] installing Python's venv (Debian package) for the client tests"
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq python3 python3-venv >/dev/null
fi

# run_tier <project> <report file>: one vitest project, its results also written as JSON.
run_tier() {
  npx vitest run --project "$1" --reporter=default --reporter=json --outputFile.json="$2"
}
