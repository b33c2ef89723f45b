#!/usr/bin/env bash
# Set up, then walk the command-line flow on the bundled examples:
# create a project, import CSV, Edge Impulse JSON/CBOR (signed) and WAV files with an 80/20
# split, show the dataset, and export it for Edge Impulse.
#   bash installer/quickstart.sh [PROJECT_DIR]     (default: ./quickstart-project, made anew)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/installer/setup.sh"
S="$ROOT/.venv/bin/tinyml-studio"
DIR="${1:-quickstart-project}"
if [ -e "$DIR" ]; then
  echo "quickstart: $DIR exists; remove it or name another folder" >&2
  exit 1
fi
set -x
"$S" new "$DIR" --name "Quickstart"
"$S" import "$DIR" "$ROOT/resources/examples" --category split --hmac-key tinyml-example-key
"$S" info "$DIR"
"$S" list "$DIR"
"$S" export-data "$DIR" "$DIR-export" --format ei-json
"$S" boards
