#!/usr/bin/env bash
# Installs the real EPICS peers the interop tests and the benchmark talk to:
#   - Debian's EPICS Channel Access client library (libca, with its libcom dependency),
#   - numpy for Debian's python3,
#   - pyepics, unpacked (not installed: its package pulls in wxPython) into .peers/pyepics.
# Writes .peers/env.sh with PYTHONPATH, PYEPICS_LIBCA and PEERS_PYTHON.
#
# Idempotent: when everything is already there it only checks and returns.
# Without root or apt-get it prints what is missing and exits 0, or 1 when CI=true.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$ROOT/.peers"
PYEPICS_DIR="$PEERS/pyepics"
PYTHON=/usr/bin/python3
LIBCA_PKG=libca4.13.5
PYEPICS_PKG=python3-pyepics
NUMPY_PKG=python3-numpy

say() { printf 'install-peers: %s\n' "$*"; }

give_up() {
  say "$*"
  say "interop tests that need libca/pyepics will be skipped (they fail when CI=true)."
  if [ "${CI:-}" = "true" ]; then
    exit 1
  fi
  exit 0
}

libca_path() {
  # The shared library file the Debian package installs (libca.so.4.13.5 or similar).
  local f
  for f in /usr/lib/*-linux-gnu/libca.so.4.* /usr/lib/libca.so.4.* /usr/lib/epics/lib/*/libca.so.*; do
    if [ -f "$f" ]; then
      printf '%s\n' "$f"
      return 0
    fi
  done
  return 1
}

pyepics_ok() {
  [ -f "$PYEPICS_DIR/usr/lib/python3/dist-packages/epics/__init__.py" ]
}

numpy_ok() {
  [ -x "$PYTHON" ] && "$PYTHON" -c 'import numpy' >/dev/null 2>&1
}

write_env() {
  local libca
  libca="$(libca_path)"
  mkdir -p "$PEERS"
  cat >"$PEERS/env.sh.tmp" <<EOF
# Written by scripts/install-peers.sh. Source it to run Debian's pyepics over Debian's libca:
#   . .peers/env.sh && "\$PEERS_PYTHON" -c 'import epics; print(epics.__version__)'
export PEERS_PYTHON=$PYTHON
export PYEPICS_LIBCA=$libca
export PEERS_PYEPICS_PATH=$PYEPICS_DIR/usr/lib/python3/dist-packages
export PYTHONPATH=$PYEPICS_DIR/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}
EOF
  mv "$PEERS/env.sh.tmp" "$PEERS/env.sh"
}

if libca_path >/dev/null && numpy_ok && pyepics_ok; then
  write_env
  say "peers present (libca: $(libca_path), pyepics: $PYEPICS_DIR)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
  give_up "apt-get/dpkg not found: cannot install $LIBCA_PKG, $NUMPY_PKG, $PYEPICS_PKG"
fi

export DEBIAN_FRONTEND=noninteractive

has_candidate() {
  local cand
  cand="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

need=()
libca_path >/dev/null || need+=("$LIBCA_PKG")
numpy_ok || need+=("$NUMPY_PKG")
if [ ! -x "$PYTHON" ]; then
  need+=(python3)
fi

if [ "${#need[@]}" -gt 0 ]; then
  # Installing system packages needs root; unpacking pyepics below does not.
  if [ "$(id -u)" != "0" ]; then
    give_up "not root: cannot apt-get install ${need[*]} (run this script as root)"
  fi
  if ! has_candidate "$LIBCA_PKG" || ! has_candidate "$PYEPICS_PKG" || ! has_candidate "$NUMPY_PKG"; then
    say "apt-get update"
    apt-get update -qq || give_up "apt-get update failed"
  fi
  say "apt-get install ${need[*]}"
  if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    # A stale package list is the usual cause: refresh once and retry.
    apt-get update -qq || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
      give_up "apt-get install ${need[*]} failed"
  fi
elif ! pyepics_ok && ! has_candidate "$PYEPICS_PKG"; then
  if [ "$(id -u)" != "0" ]; then
    give_up "not root: the package list does not know $PYEPICS_PKG (run this script as root)"
  fi
  say "apt-get update"
  apt-get update -qq || give_up "apt-get update failed"
fi

if ! pyepics_ok; then
  say "apt-get download $PYEPICS_PKG (unpacked into .peers/pyepics, not installed)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$PYEPICS_PKG" >/dev/null); then
    [ "$(id -u)" = "0" ] && apt-get update -qq || true
    (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$PYEPICS_PKG" >/dev/null) || give_up "apt-get download $PYEPICS_PKG failed"
  fi
  mkdir -p "$PEERS"
  rm -rf "$PYEPICS_DIR.tmp"
  dpkg -x "$tmp"/"$PYEPICS_PKG"_*.deb "$PYEPICS_DIR.tmp" || give_up "dpkg -x of $PYEPICS_PKG failed"
  rm -rf "$PYEPICS_DIR"
  mv "$PYEPICS_DIR.tmp" "$PYEPICS_DIR"
fi

libca_path >/dev/null || give_up "$LIBCA_PKG installed but no libca.so.4.* found"
numpy_ok || give_up "$PYTHON cannot import numpy"
pyepics_ok || give_up "pyepics not found in $PYEPICS_DIR after unpacking"
write_env
# shellcheck disable=SC1091
. "$PEERS/env.sh"
ver="$("$PYTHON" -c 'import epics; print(epics.__version__)' 2>&1)" || give_up "pyepics does not import: $ver"
say "peers installed (libca: $PYEPICS_LIBCA, pyepics $ver)"
