#!/usr/bin/env bash
# Set up everything and run the whole test suite: lint, then pytest on SQLite, then, when
# CI=true or WANGGE_TEST_POSTGRES=1, again on a real PostgreSQL started here on loopback,
# and the PaddleOCR backend's tests in their own venv (CI=true or WANGGE_TEST_PADDLE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
. .venv/bin/activate

echo "== ruff"
ruff check .
ruff format --check .

echo "== pytest (SQLite)"
python -m pytest -q -p no:cacheprovider "$@"

if [ "${CI:-}" = "true" ] || [ "${WANGGE_TEST_POSTGRES:-0}" = "1" ]; then
  # shellcheck source=scripts/postgres.sh
  . scripts/postgres.sh
  start_test_postgres
  trap stop_test_postgres EXIT
  echo "== pytest (PostgreSQL)"
  # Only the suites that touch the database run again; OCR and speech are database-free.
  pg_args=("$@")
  [ ${#pg_args[@]} -eq 0 ] && pg_args=(tests/server tests/ledger tests/sync)
  WANGGE_TEST_DATABASE_URL="$TEST_POSTGRES_URL" python -m pytest -q -p no:cacheprovider \
    "${pg_args[@]}"
fi

if [ "${CI:-}" = "true" ] || [ "${WANGGE_TEST_PADDLE:-0}" = "1" ]; then
  echo "== pytest (PaddleOCR backend)"
  bash scripts/setup.sh paddle
  WANGGE_TEST_PADDLE=1 .venv-paddle/bin/python -m pytest -q -p no:cacheprovider tests/ocr/engines
fi
