#!/usr/bin/env bash
# Set up and serve Wangge on the embedded defaults: SQLite (WAL) and files under ./instance.
# The first run creates the schema and a demo area tree with one account per role.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh runtime
export WANGGE_DATA_DIR="${WANGGE_DATA_DIR:-$PWD/instance}"
. .venv/bin/activate
flask --app wsgi init-db
if [ ! -f "$WANGGE_DATA_DIR/.demo-seeded" ] && [ "${WANGGE_SEED_DEMO:-1}" = "1" ]; then
  flask --app wsgi seed-demo | tee "$WANGGE_DATA_DIR/demo-credentials.txt"
  touch "$WANGGE_DATA_DIR/.demo-seeded"
  echo "(demo credentials saved in $WANGGE_DATA_DIR/demo-credentials.txt)"
fi
BIND="${WANGGE_BIND:-127.0.0.1:8000}"
echo "== serving on http://$BIND  (API docs: http://$BIND/api/v1/docs)"
exec gunicorn -c gunicorn.conf.py --bind "$BIND" wsgi:app
