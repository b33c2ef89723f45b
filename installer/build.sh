#!/usr/bin/env bash
# Build the self-contained app with PyInstaller (installer/tinyml-studio.spec) and smoke-test it.
#   bash installer/build.sh               # build into build/ and dist/tinyml-studio/, then the smoke test
#   bash installer/build.sh --clean       # the same, PyInstaller's cache cleared first
#   bash installer/build.sh --no-smoke    # build only
#   bash installer/build.sh --smoke-only  # only the smoke test of an existing dist/tinyml-studio
#   bash installer/build.sh --smoke-steps # the smoke test runs the steps one by one, even where `demo` exists
# Needs installer/setup.sh's .venv (made here when missing); installs the build extra (PyInstaller) into it once.
# The result: dist/tinyml-studio/ (run ./tinyml-studio; ./install-desktop.sh adds it to the desktop menu).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
APP_DIR="$ROOT/dist/tinyml-studio"
APP="$APP_DIR/tinyml-studio"
CLEAN=0 BUILD=1 SMOKE=1 STEPS=0
for arg in "$@"; do
  case "$arg" in
    --clean) CLEAN=1 ;;
    --no-smoke) SMOKE=0 ;;
    --smoke-only) BUILD=0 ;;
    --smoke-steps) STEPS=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ------------------------------------------------------------------------------------------------ build
if [ "$BUILD" -eq 1 ]; then
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import studio' 2>/dev/null; then
    bash "$ROOT/installer/setup.sh"
  fi
  if ! "$VENV/bin/python" -c 'import PyInstaller' 2>/dev/null; then
    echo "build: installing the build extra (PyInstaller) into $VENV"
    "$VENV/bin/python" -m pip install -q -e "$ROOT[build]"
  fi
  echo "build: PyInstaller $("$VENV/bin/python" -c 'import PyInstaller; print(PyInstaller.__version__)'), \
spec installer/tinyml-studio.spec -> dist/tinyml-studio/ (several minutes; TensorFlow is large)"
  args=(--noconfirm --log-level WARN --workpath "$ROOT/build/pyinstaller" --distpath "$ROOT/dist")
  [ "$CLEAN" -eq 1 ] && args+=(--clean)
  mkdir -p "$ROOT/build"
  start="$(now)"
  (cd "$ROOT" && nice -n 10 "$VENV/bin/python" -m PyInstaller "${args[@]}" installer/tinyml-studio.spec) \
    > "$ROOT/build/pyinstaller.log" 2>&1 || { tail -40 "$ROOT/build/pyinstaller.log" >&2
                                            echo "build: PyInstaller failed (log: build/pyinstaller.log)" >&2; exit 1; }
  echo "build: built in $(since "$start") s (log: build/pyinstaller.log)"
  # TensorFlow's two big libraries carry full symbol tables (about 210 MB of 1.3 GB) that nothing loads: the
  # dynamic loader and dlsym read only .dynsym, which strip keeps
  if command -v strip >/dev/null 2>&1; then
    for lib in "$APP_DIR"/_internal/tensorflow/libtensorflow_{cc,framework}.so.*; do
      [ -f "$lib" ] && [ ! -L "$lib" ] && strip --strip-unneeded "$lib"
    done
  fi

  # desktop integration: the .desktop file and the icon in share/, and a script that installs them for the user
  install -D -m 644 "$ROOT/installer/tinyml-studio.desktop" "$APP_DIR/share/applications/tinyml-studio.desktop"
  install -D -m 644 "$ROOT/resources/icons/tinyml-studio.svg" \
    "$APP_DIR/share/icons/hicolor/scalable/apps/tinyml-studio.svg"
  cat > "$APP_DIR/install-desktop.sh" <<'EOF'
#!/usr/bin/env sh
# Add TinyML Studio to your desktop's menu (for you only, in ~/.local): the command tinyml-studio in
# ~/.local/bin (a link to this folder's executable), the menu entry and the icon. --uninstall removes them.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
BIN="$HOME/.local/bin"
DESKTOP="$DATA/applications/tinyml-studio.desktop"
ICON="$DATA/icons/hicolor/scalable/apps/tinyml-studio.svg"
if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$DESKTOP" "$ICON"
  [ -L "$BIN/tinyml-studio" ] && rm -f "$BIN/tinyml-studio"
  echo "removed TinyML Studio's menu entry, icon and $BIN/tinyml-studio"
  exit 0
fi
mkdir -p "$BIN" "$(dirname "$DESKTOP")" "$(dirname "$ICON")"
ln -sfn "$HERE/tinyml-studio" "$BIN/tinyml-studio"
# the menu entry runs this folder's executable by its full path, whether or not ~/.local/bin is on PATH
sed "s|^Exec=tinyml-studio|Exec=\"$HERE/tinyml-studio\"|" "$HERE/share/applications/tinyml-studio.desktop" > "$DESKTOP"
cp "$HERE/share/icons/hicolor/scalable/apps/tinyml-studio.svg" "$ICON"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "installed: $DESKTOP, $ICON, $BIN/tinyml-studio -> $HERE/tinyml-studio"
case ":$PATH:" in *":$BIN:"*) ;; *) echo "note: $BIN is not on your PATH" ;; esac
EOF
  chmod 755 "$APP_DIR/install-desktop.sh"
  echo "build: $(du -sh "$APP_DIR" | cut -f1) in dist/tinyml-studio/ ($(find "$APP_DIR" -type f | wc -l) files)"
fi

[ "$SMOKE" -eq 1 ] || exit 0

# -------------------------------------------------------------------------------------------- smoke test
# The frozen app alone (no venv, no system Python for PlatformIO/SCons): the fast commands, then either the
# whole flow (`demo --headless`) or, without that command, the same heavy steps one by one.
[ -x "$APP" ] || { echo "smoke: $APP is missing (build first)" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tinyml-studio-smoke.XXXXXX")"
KEEP_WORK=0
cleanup() {
  [ -n "${BOARD_PID:-}" ] && kill "$BOARD_PID" 2>/dev/null || true
  if [ "$KEEP_WORK" -eq 1 ]; then echo "smoke: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export TINYML_STUDIO_PIO_CORE="$WORK/pio-core" PLATFORMIO_SETTING_ENABLE_TELEMETRY=No \
  PLATFORMIO_DISABLE_UPGRADE_CHECK=true XDG_CACHE_HOME="$WORK/cache" XDG_DATA_HOME="$WORK/data"
unset TINYML_STUDIO_RESOURCES TINYML_STUDIO_TEMPLATES PYTHONPATH PYTHONHOME VIRTUAL_ENV
PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v "^$VENV/bin\$" | paste -sd: -)"  # not the venv's pio
export PATH
cd "$WORK"

PASSED=0 FAILED=0
step() {  # step NAME COMMAND...: run, time, keep the output in $WORK/NAME.log
  local name="$1"; shift
  local start rc; start="$(now)"
  set +e; nice -n 10 "$@" > "$WORK/$name.log" 2>&1; rc=$?; set -e
  if [ "$rc" -eq 0 ]; then
    PASSED=$((PASSED + 1)); printf 'smoke: %-22s ok      %6s s\n' "$name" "$(since "$start")"
  else
    FAILED=$((FAILED + 1)); KEEP_WORK=1
    printf 'smoke: %-22s FAILED  %6s s (exit %d; %s)\n' "$name" "$(since "$start")" "$rc" "$WORK/$name.log"
    tail -15 "$WORK/$name.log" | sed 's/^/    /'
  fi
  return 0
}
expect() {  # expect NAME FILE PATTERN: a step's output must match
  if grep -Eq "$3" "$2"; then PASSED=$((PASSED + 1)); printf 'smoke: %-22s ok\n' "$1"
  else FAILED=$((FAILED + 1)); KEEP_WORK=1; printf 'smoke: %-22s FAILED (no /%s/ in %s)\n' "$1" "$3" "$2"; fi
}

step version "$APP" --version
expect version-text "$WORK/version.log" '^tinyml-studio [0-9]'
step help "$APP" --help
expect help-text "$WORK/help.log" 'usage: tinyml-studio'
step boards "$APP" boards
# the executable as Python: what PlatformIO and SCons ask of it
step python-c "$APP" -u -B -c 'import sys, sqlite3, ssl, json; print("frozen", sys.frozen)'
expect python-c-text "$WORK/python-c.log" '^frozen True'
step python-m-platformio "$APP" -m platformio --version

if [ "$STEPS" -eq 0 ] && "$APP" demo --help > /dev/null 2>&1; then
  step demo "$APP" demo --headless --workdir "$WORK/demo"
  expect demo-result "$WORK/demo.log" 'result +every step passed'
  sed -n '/^TinyML Studio demo/,$p' "$WORK/demo.log" | sed 's/^/    /'
else
  P="$WORK/project"
  step new "$APP" new "$P" --name smoke
  # a virtual board on a pseudo-terminal, recorded like a serial board (pyserial), plus the in-app one
  "$APP" virtual-board --gesture wave --link "$WORK/board" --seconds 60 > "$WORK/virtual-board.log" 2>&1 &
  BOARD_PID=$!
  for _ in $(seq 1 100); do [ -e "$WORK/board" ] && break; sleep 0.2; done
  step capture-serial "$APP" capture "$P" --device "$WORK/board" --label wave --seconds 6
  kill "$BOARD_PID" 2>/dev/null || true; wait "$BOARD_PID" 2>/dev/null || true; BOARD_PID=
  for g in idle circle shake; do
    step "capture-$g" "$APP" capture "$P" --device virtual --gesture "$g" --seed 1 --label "$g" --seconds 6
  done
  for g in idle wave circle shake; do
    step "capture-$g-test" "$APP" capture "$P" --device virtual --gesture "$g" --seed 2 --label "$g" --seconds 6 \
      --category testing
  done
  step impulse "$APP" impulse "$P" --window-ms 2000 --stride-ms 200 --dsp spectral
  step features "$APP" features "$P"  # the worker pool: spawned processes of the frozen executable
  step train "$APP" train "$P" --epochs 3
  step train-qat "$APP" train "$P" --epochs 2 --quantize qat --prune 0.3  # tensorflow-model-optimization
  step test "$APP" test "$P"
  step estimate "$APP" estimate "$P" --board nano33ble  # arm-none-eabi-gcc, QEMU and its counting plugin
  step deploy-native "$APP" deploy "$P" --board nano33ble --env native --out "$WORK/fw-native" --build
  step deploy-cortex-m4 "$APP" deploy "$P" --board virtual-cortex-m4 --out "$WORK/fw-m4" --build
  ELF="$WORK/fw-m4/.pio/build/virtual-cortex-m4/firmware.elf"
  # the firmware on the emulated board (QEMU), fed a recorded gesture, through the frozen interpreter
  step run-emulated "$APP" -c '
import sys
from studio.deploy.running import emulated
from studio.jobs import Progress
frames = emulated.gesture_frames("wave", 6.0, 100.0)
report = emulated.run(emulated.EmulatedParams(sys.argv[1], frames, 100.0), Progress())
print(f"windows {report.windows_done}/{report.windows_expected} complete={report.complete}")
sys.exit(0 if report.complete and report.results else 1)
' "$ELF"
  expect run-emulated-text "$WORK/run-emulated.log" 'complete=True'
fi

echo "smoke: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
