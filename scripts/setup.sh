#!/usr/bin/env bash
# Set up everything Wangge needs on a fresh machine: a virtualenv with pinned packages.
# Idempotent and quick when nothing changed (keyed on the requirements files' hash).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
want="${1:-dev}"   # "runtime": requirements.txt; "dev": + test tools; "paddle": + PaddleOCR
VENV="${WANGGE_VENV:-.venv}"
# PaddleOCR brings 1.3 GB and its own OpenCV builds: it lives in a venv of its own.
[ "$want" = "paddle" ] && VENV="${WANGGE_PADDLE_VENV:-.venv-paddle}"

# System packages: a CJK font for PDF exports always; for the tests also fonts for the
# synthetic document generator, espeak-ng and an AMR-WB encoder for speech, and redis-server.
apt_lists="server/APT_PACKAGES"
[ "$want" != "runtime" ] && apt_lists="$apt_lists ocr/synthetic/APT_PACKAGES speech/APT_PACKAGES tests/APT_PACKAGES"
missing=()
for pkg in $(grep -hv '^#' $apt_lists); do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi

reqs=requirements.txt
[ "$want" = "dev" ] && reqs="requirements.txt requirements-dev.txt"
[ "$want" = "paddle" ] && reqs="requirements.txt requirements-dev.txt requirements-paddle.txt"
stamp="$VENV/.setup-stamp-$want"
hash=$(cat $reqs | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  echo "== installing Python packages ($want)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  if [ "$want" = "paddle" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r requirements-dev.txt -r requirements-paddle.txt
  elif [ "$want" = "dev" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  fi
  echo "$hash" > "$stamp"
fi

# The sync tests drive the real WatermelonDB client in Node: its pinned lockfile, via npm ci.
if [ "$want" = "dev" ]; then
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "== installing Node.js"
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
  fi
  client=tests/server/resources/watermelon
  node_stamp="$client/node_modules/.setup-stamp"
  node_hash=$(sha256sum "$client/package-lock.json" | cut -c1-16)
  if [ ! -f "$node_stamp" ] || [ "$(cat "$node_stamp")" != "$node_hash" ]; then
    echo "== installing the WatermelonDB test client (npm ci)"
    npm ci --prefix "$client" --no-audit --no-fund --loglevel=error
    echo "$node_hash" > "$node_stamp"
  fi
fi
