#!/usr/bin/env bash
# Makes sure the vegeta load generator (the outside generator of `npm run bench`, part (b)) exists
# and prints its path on stdout (logs go to stderr).
#
#   scripts/vegeta.sh                 -> /root/.cache/quorum/vegeta/v12.13.0/vegeta
#   export VEGETA_BIN="$(scripts/vegeta.sh)"
#
# Order: $VEGETA_BIN if set and executable; the cached binary
# ${QUORUM_CACHE_DIR:-$HOME/.cache/quorum}/vegeta/<version>/vegeta; otherwise `go install` of the
# pinned version into that folder (Go from the machine, modules from the Go module proxy; about
# 15 s). Idempotent.
set -euo pipefail

VEGETA_VERSION="v12.13.0"
CACHE_DIR="${QUORUM_CACHE_DIR:-$HOME/.cache/quorum}/vegeta/$VEGETA_VERSION"
CACHED_BIN="$CACHE_DIR/vegeta"

log() { printf '[vegeta] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -n "${VEGETA_BIN:-}" && -x "$VEGETA_BIN" ]]; then
  echo "$VEGETA_BIN"
  exit 0
fi
if [[ -x "$CACHED_BIN" ]]; then
  echo "$CACHED_BIN"
  exit 0
fi
command -v go >/dev/null 2>&1 || die "Go is needed to build vegeta (go install), and go is not on PATH"
log "building vegeta $VEGETA_VERSION with go install into $CACHE_DIR"
mkdir -p "$CACHE_DIR"
GOBIN="$CACHE_DIR" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" >&2 || die "go install failed"
[[ -x "$CACHED_BIN" ]] || die "$CACHED_BIN missing after go install"
echo "$CACHED_BIN"
