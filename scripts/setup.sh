#!/usr/bin/env bash
# Set up everything Wangge needs on a fresh machine: a virtualenv with pinned packages.
# Idempotent and quick when nothing changed (keyed on the requirements files' hash).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${WANGGE_VENV:-.venv}"
want="${1:-dev}"   # "runtime" installs only requirements.txt

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi

reqs=requirements.txt
[ "$want" = "dev" ] && reqs="requirements.txt requirements-dev.txt"
stamp="$VENV/.setup-stamp-$want"
hash=$(cat $reqs | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  echo "== installing Python packages ($want)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  if [ "$want" = "dev" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  fi
  echo "$hash" > "$stamp"
fi
