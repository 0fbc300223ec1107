#!/usr/bin/env bash
# Makes sure a mediasoup worker binary exists and prints its path on stdout (logs go to stderr).
#
#   scripts/mediasoup-worker.sh            -> /root/.cache/quorum/mediasoup-worker/3.12.16/mediasoup-worker
#   export MEDIASOUP_WORKER_BIN="$(scripts/mediasoup-worker.sh)"
#
# Order:
#   1. $MEDIASOUP_WORKER_BIN, if set and executable.
#   2. The cached binary ${QUORUM_CACHE_DIR:-$HOME/.cache/quorum}/mediasoup-worker/<version>/,
#      if it is executable and ldd resolves all its shared libraries.
#   3. Otherwise build it from mediasoup's npm tarball against Debian bookworm's own libraries
#      (no download from GitHub or wrapdb: meson --wrap-mode=nodownload with the shim
#      subprojects in scripts/mediasoup-shims/), strip it and move it into the cache atomically.
#
# Idempotent; needs root (or the Debian packages already installed) for step 3. See docs/mediasoup.md.
set -euo pipefail

MEDIASOUP_VERSION="3.12.16"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SHIMS_DIR="$SCRIPT_DIR/mediasoup-shims"
CACHE_DIR="${QUORUM_CACHE_DIR:-$HOME/.cache/quorum}/mediasoup-worker/$MEDIASOUP_VERSION"
CACHED_BIN="$CACHE_DIR/mediasoup-worker"
SHIM_PROJECTS=(openssl libuv libsrtp2 usrsctp abseil-cpp nlohmann_json catch2)
DEB_PACKAGES=(g++ make python3 ninja-build meson pkg-config libssl-dev libuv1-dev libsrtp2-dev
  libusrsctp-dev libabsl-dev nlohmann-json3-dev)

log() { printf '[mediasoup-worker] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A usable worker: an executable file whose shared libraries all resolve. (mediasoup-worker has no
# --version; run by hand it exits with an error because it expects Node's channel fds.)
worker_usable() {
  local bin="$1"
  [[ -f "$bin" && -x "$bin" ]] || return 1
  command -v ldd >/dev/null 2>&1 || return 0
  local out
  out="$(ldd "$bin" 2>&1)" || return 1
  ! grep -q 'not found' <<<"$out"
}

# 1. An explicitly given binary.
if [[ -n "${MEDIASOUP_WORKER_BIN:-}" ]]; then
  if [[ -f "$MEDIASOUP_WORKER_BIN" && -x "$MEDIASOUP_WORKER_BIN" ]]; then
    printf '%s\n' "$MEDIASOUP_WORKER_BIN"
    exit 0
  fi
  log "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file; ignoring it"
fi

# 2. The cached build.
if worker_usable "$CACHED_BIN"; then
  printf '%s\n' "$CACHED_BIN"
  exit 0
fi
[[ -e "$CACHED_BIN" ]] && log "cached $CACHED_BIN is not usable (missing libraries?); rebuilding"

# 3. Build it.
install_packages() {
  local missing=() pkg
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}); run as root or install them"
    sudo=(sudo)
  fi
  log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

for d in "${SHIM_PROJECTS[@]}"; do
  [[ -f "$SHIMS_DIR/$d/meson.build" ]] || die "missing shim $SHIMS_DIR/$d/meson.build"
done

install_packages

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mediasoup-worker-build.XXXXXX")"
TMP_BIN=""
cleanup() {
  rm -rf "$WORK_DIR"
  [[ -n "$TMP_BIN" ]] && rm -f "$TMP_BIN"
  return 0
}
trap cleanup EXIT

log "fetching mediasoup@$MEDIASOUP_VERSION sources (npm pack; no install scripts run)"
(cd "$WORK_DIR" && npm pack --silent "mediasoup@$MEDIASOUP_VERSION" >/dev/null)
tar -xzf "$WORK_DIR/mediasoup-$MEDIASOUP_VERSION.tgz" -C "$WORK_DIR"
WORKER_SRC="$WORK_DIR/package/worker"
[[ -f "$WORKER_SRC/meson.build" ]] || die "no worker/meson.build in the mediasoup tarball"

# Bookworm ships meson 1.0.1; nothing newer than 1.0 is used by this build.
grep -q "meson_version: '>= 1.1.0'" "$WORKER_SRC/meson.build" ||
  die "worker/meson.build has no meson_version '>= 1.1.0' to relax (unexpected version?)"
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$WORKER_SRC/meson.build"

# Replace the downloading wraps with the pkg-config shims.
rm -f "$WORKER_SRC"/subprojects/*.wrap
for d in "${SHIM_PROJECTS[@]}"; do
  rm -rf "${WORKER_SRC:?}/subprojects/$d"
  cp -r "$SHIMS_DIR/$d" "$WORKER_SRC/subprojects/$d"
done

BUILD_DIR="$WORK_DIR/build"
log "meson setup (wrap-mode=nodownload)"
meson setup --wrap-mode=nodownload --buildtype release \
  -Db_ndebug=true -Db_pie=true -Db_staticpic=true \
  "$BUILD_DIR" "$WORKER_SRC" >&2
log "compiling mediasoup-worker (a few minutes)"
meson compile -C "$BUILD_DIR" mediasoup-worker >&2

BUILT="$BUILD_DIR/mediasoup-worker"
[[ -x "$BUILT" ]] || die "build finished but $BUILT is missing"

mkdir -p "$CACHE_DIR"
TMP_BIN="$(mktemp "$CACHE_DIR/.mediasoup-worker.XXXXXX")"
cp "$BUILT" "$TMP_BIN"
strip "$TMP_BIN"
chmod 0755 "$TMP_BIN"
worker_usable "$TMP_BIN" || die "built worker does not resolve its libraries: $(ldd "$TMP_BIN" 2>&1)"
mv -f "$TMP_BIN" "$CACHED_BIN"
TMP_BIN=""
log "built $CACHED_BIN ($(du -h "$CACHED_BIN" | cut -f1))"
printf '%s\n' "$CACHED_BIN"
