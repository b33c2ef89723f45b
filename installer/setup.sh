#!/usr/bin/env bash
# Set up TinyML Studio on Debian 12 (idempotent): system packages, .venv, the package.
#   bash installer/setup.sh          # the app
#   bash installer/setup.sh --test   # the app and its test tools
# Where apt-get is missing (or we are not root) it prints what to install and goes on.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WITH_TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

DEB_PACKAGES=(
  # Python 3.11 with venv (Debian 12's python3 is 3.11)
  python3 python3-venv
  # Qt runtime
  libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0 fonts-dejavu-core
  # a virtual screen for screenshots and GUI tests
  xvfb xauth
  # audio capture and a virtual sound device for tests
  libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins
  # test speech
  espeak-ng sox
  # host and Cortex-M compilers, and the emulated Cortex-M boards
  gcc g++ make gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  missing=("${DEB_PACKAGES[@]}")
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${#missing[@]} Debian package(s): ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: apt-get is not available here (or not root); install these packages yourself:" >&2
    echo "  ${missing[*]}" >&2
  fi
else
  echo "setup: Debian packages present"
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$cand"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "setup: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PY" -m venv "$VENV"
fi

EXTRA=""
[ "$WITH_TEST" -eq 1 ] && EXTRA="[test]"
STAMP="$VENV/.tinyml-studio-installed"
HASH="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
WANT="$HASH $EXTRA"
# an install with the test extra also satisfies an app-only run
if [ -f "$STAMP" ] && { grep -qxF -- "$WANT" "$STAMP" || { [ -z "$EXTRA" ] && grep -q "^$HASH" "$STAMP"; }; } \
   && "$VENV/bin/python" -c 'import studio' 2>/dev/null; then
  echo "setup: Python packages up to date"
else
  echo "setup: installing TinyML Studio$EXTRA into $VENV (TensorFlow makes the first install take a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$ROOT$EXTRA"
  # keep the stamp for the richest set installed, so the app-only run does not reinstall
  printf '%s\n' "$WANT" > "$STAMP"
fi
echo "setup: done. Run: $VENV/bin/tinyml-studio --help"
