#!/usr/bin/env bash
# `make bench`: every benchmark of the platform in one run, on this machine.
#   1. HTTP (bench/http.sh): wrk against madoguchi and nginx, idle memory,
#      start-to-ready time.
#   2. Audit appends (build/bench_audit): durable group-committed appends on
#      SQLite, with a different resident on each entry and with no subject.
#   3. Registries: the ABR parcel import of 和歌山市 and 1,000,000 corporate
#      number records generated and imported (build/bench_corp).
#   4. Address normalizer beside the two published peers (bench/address.sh).
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
echo
echo "## Address Base Registry import: 和歌山市's 367,519 parcels"
abr=${ABR_DIR:-$root/../shared/data/abr}
if [[ -f $abr/mt_parcel_city302015.csv.zip ]]; then
	tmp=$(mktemp -d /tmp/mado-bench-abr.XXXXXX)
	"$build/madoguchi" init --data-dir "$tmp" --log-level warn >/dev/null
	"$build/madoguchi" import abr --data-dir "$tmp" --log-level warn "$abr/mt_parcel_city302015.csv.zip"
	rm -rf "$tmp"
else
	echo "($abr not found)"
fi
echo
echo "## Corporate numbers: generate and import 1,000,000 records (UTF-8, then CP932)"
"$build/bench_corp" -n 1000000
"$build/bench_corp" -n 1000000 -s
echo
echo "## Address normalizer beside abr-geocoder and normalize-japanese-addresses (bench/address.sh)"
"$root/bench/address.sh" "$build"
echo
echo "## Synthetic population: 1,000,000 residents of 和歌山市 through the bulk path (build/bench_populate)"
"$build/bench_populate" -a "$abr" 1000000
