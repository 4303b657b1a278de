#!/bin/bash
# A throwaway PostgreSQL 15 server for tests: initdb in a fresh temporary
# directory, a free port on 127.0.0.1, its own socket directory, trust auth.
#
#   eval "$(scripts/pg-temp.sh start)"   # sets MADO_TEST_PG_URL, MADO_TEST_PG_DIR
#   scripts/pg-temp.sh stop "$MADO_TEST_PG_DIR"
#
# start prints only the export lines on stdout (progress goes to stderr).
# PG_TEMP_OPTS adds server options, e.g. PG_TEMP_OPTS="-c fsync=off" for speed
# (never for benchmarks). As root the server runs as the postgres user, since
# initdb refuses to run as root (see docs/internals/db.md).
set -euo pipefail

MARKER=.mado-pg-temp
DBNAME=madoguchi_test

die() {
	echo "pg-temp: $*" >&2
	exit 1
}

bindir() {
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir)
		[ -x "$d/initdb" ] && { echo "$d"; return; }
	fi
	for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return; }
	done
	die "initdb not found: install the Debian package postgresql (and libpq-dev)"
}

# Runs a PostgreSQL program as the owner of the data directory.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
	local bin dir port tries
	bin=$(bindir)
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "no postgres user: install the Debian package postgresql"
	fi
	dir=$(mktemp -d /tmp/mado-pg.XXXXXX)
	touch "$dir/$MARKER"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	chmod 700 "$dir"

	if ! as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		rm -rf "$dir"
		die "initdb failed"
	fi

	# A port that is free now; if another process takes it first, try again.
	for tries in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		port_in_use "$port" && continue
		if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 ${PG_TEMP_OPTS:-}" start >&2; then
			if as_pg "$bin/createdb" -h "$dir" -p "$port" -U postgres "$DBNAME" >&2; then
				echo "pg-temp: PostgreSQL on 127.0.0.1:$port, data in $dir" >&2
				echo "export MADO_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/$DBNAME"
				echo "export MADO_TEST_PG_DIR=$dir"
				return 0
			fi
			as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
			break
		fi
	done
	[ -f "$dir/log" ] && tail -n 20 "$dir/log" >&2
	rm -rf "$dir"
	die "could not start PostgreSQL"
}

stop() {
	local dir=${1:-${MADO_TEST_PG_DIR:-}}
	[ -n "$dir" ] || die "usage: $0 stop DIR"
	# Remove only what start created.
	[ -f "$dir/$MARKER" ] || die "$dir was not made by pg-temp.sh start"
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >&2 ||
			as_pg "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*)
	echo "usage: $0 start | stop DIR" >&2
	exit 2
	;;
esac
