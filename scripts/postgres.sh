#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the tests; installs it with apt when missing.

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

start_test_postgres() {
  local bin
  if ! bin=$(find_pg_bin); then
    echo "== installing PostgreSQL (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    bin=$(find_pg_bin)
  fi
  # initdb refuses to run as root, so the cluster belongs to an unprivileged user.
  local runner=()
  if [ "$(id -u)" = "0" ]; then
    id -u wangge-pg >/dev/null 2>&1 || useradd --system --no-create-home wangge-pg
    runner=(runuser -u wangge-pg --)
  fi
  TEST_PG_DIR=$(mktemp -d /tmp/wangge-pg.XXXXXX)
  chmod 755 "$TEST_PG_DIR"
  [ "$(id -u)" = "0" ] && chown wangge-pg "$TEST_PG_DIR"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${runner[@]}" "$bin/initdb" -D "$TEST_PG_DIR/data" -U wangge --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${runner[@]}" "$bin/pg_ctl" -D "$TEST_PG_DIR/data" -l "$TEST_PG_DIR/log" -w \
    -o "-h 127.0.0.1 -p $port -k $TEST_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U wangge wangge_test
  TEST_PG_BIN="$bin"
  export TEST_POSTGRES_URL="postgresql+psycopg://wangge@127.0.0.1:$port/wangge_test"
  echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_test_postgres() {
  [ -n "${TEST_PG_DIR:-}" ] || return 0
  local runner=()
  [ "$(id -u)" = "0" ] && runner=(runuser -u wangge-pg --)
  "${runner[@]}" "$TEST_PG_BIN/pg_ctl" -D "$TEST_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$TEST_PG_DIR"
}
