#!/usr/bin/env bash
# HTTP benchmarks of issue 2, in one run on loopback:
#   wrk, 64 connections, 10 s: GET /healthz and authenticated GET /api/v1/me
#   (bearer token) on madoguchi; the same against nginx serving a static JSON
#   file of the same size (the practical ceiling of this machine);
#   idle resident memory and start-to-ready time of `madoguchi serve`.
# Usage: bench/http.sh [BUILD_DIR]   (prints a Markdown table on stdout)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bin=$build/madoguchi
dur=${BENCH_SECONDS:-10}
conns=${BENCH_CONNS:-64}
threads=${BENCH_THREADS:-2}
work=$(mktemp -d /tmp/mado-bench.XXXXXX)
srv_pid= ngx_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill -TERM "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null || true
	[ -n "$ngx_pid" ] && kill -QUIT "$ngx_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

"$bin" init --demo --data-dir "$work/var" --abr-city "$root/../shared/data/abr/mt_city_all.csv.zip" >/dev/null
token=$("$bin" token create --lg 302015 --login clerk --label bench --data-dir "$work/var")
port=$(free_port)

# start-to-ready: from exec to the first 200 from /readyz
t0=$(date +%s%N)
"$bin" serve --data-dir "$work/var" --port "$port" --log-level warn >"$work/access.log" 2>"$work/server.err" &
srv_pid=$!
for _ in $(seq 5000); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.002; done
t1=$(date +%s%N)
ready_ms=$(( (t1 - t0) / 1000000 ))
sleep 1
idle_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$srv_pid/status")

body=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me")
printf '%s' "$body" >"$work/me.json"

nport=$(free_port)
mkdir -p "$work/nginx/logs" "$work/www"
chmod 755 "$work" "$work/www"   # nginx workers run as nobody
cp "$work/me.json" "$work/www/me.json"
cat >"$work/nginx/nginx.conf" <<NGX
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server {
    listen 127.0.0.1:$nport;
    root $work/www;
    location / { try_files \$uri =404; }
  }
}
NGX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' &
ngx_pid=$!
for _ in $(seq 500); do curl -sf "http://127.0.0.1:$nport/me.json" >/dev/null 2>&1 && break; sleep 0.01; done
curl -sf "http://127.0.0.1:$nport/me.json" >/dev/null || { echo "nginx did not come up" >&2; exit 1; }

run_wrk() { # key label url [header]
	local key=$1
	shift
	local out
	if [ $# -ge 3 ]; then
		out=$(wrk -t"$threads" -c"$conns" -d"${dur}s" --latency -H "$3" "$2")
	else
		out=$(wrk -t"$threads" -c"$conns" -d"${dur}s" --latency "$2")
	fi
	local rps p99 non2xx
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
	printf '| %s | %s | %s | %s |\n' "$1" "$rps" "$p99" "${non2xx:-0}"
	echo "$rps" >"$work/rps.$key"
}

echo "wrk -t$threads -c$conns -d${dur}s on 127.0.0.1, $(nproc) cores, response $(wc -c <"$work/me.json") bytes"
echo
echo "| target | requests/s | p99 latency | non-2xx |"
echo "|---|---|---|---|"
run_wrk nginx "nginx static me.json (ceiling)" "http://127.0.0.1:$nport/me.json"
run_wrk healthz "madoguchi GET /healthz" "http://127.0.0.1:$port/healthz"
run_wrk me "madoguchi GET /api/v1/me (bearer token)" "http://127.0.0.1:$port/api/v1/me" "Authorization: Bearer $token"
echo
ngx=$(cat "$work/rps.nginx")
me=$(cat "$work/rps.me")
awk -v a="$me" -v b="$ngx" 'BEGIN { printf "authenticated JSON / nginx static: %.1f %%\n", 100*a/b }'
echo "idle resident memory: $((idle_rss_kb / 1024)) MB ($idle_rss_kb kB)"
echo "start to ready (exec → first 200 from /readyz): ${ready_ms} ms"
