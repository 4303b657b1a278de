#!/usr/bin/env bash
# `make bench`: every benchmark of the platform in one run, on this machine.
#   1. HTTP (bench/http.sh): wrk against madoguchi and nginx, idle memory,
#      start-to-ready time.
#   2. Audit appends (build/bench_audit): durable group-committed appends on
#      SQLite, with a different resident on each entry and with no subject.
# Record the figures in docs/PERFORMANCE.md with the commands above them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}

echo "## HTTP (bench/http.sh)"
"$root/bench/http.sh" "$build" 2> >(grep -v '"level"' >&2)
echo
echo "## Audit appends, SQLite, 64 threads, 200,000 entries, one resident per entry"
"$build/bench_audit" -t 64 -n 200000
echo
echo "## Audit appends, SQLite, 64 threads, 200,000 entries, no subject"
"$build/bench_audit" -t 64 -n 200000 -s 0
