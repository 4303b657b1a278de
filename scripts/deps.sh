#!/usr/bin/env bash
# Installs what madoguchi needs on Debian 12, and nothing that is already there:
# each Debian package is installed only when dpkg says it is missing (with one
# `apt-get update` first), npm packages only when node_modules is missing or
# older than package-lock.json. When everything is present it prints nothing
# and touches no network.
#
# Usage: scripts/deps.sh [build] [test] [bench] [all]   (default: build)
#   build  compilers, CMake, the C libraries, clang-format, libFuzzer runtime
#   test   PostgreSQL 15 server, sqlite3 CLI, Chromium, Node.js + npm packages
#   bench  wrk, nginx-light, hyperfine
# docs/DEPENDENCIES.md says why each one is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
	libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev libssl-dev
	libcmocka-dev libzip-dev libqrencode-dev libicu-dev)
test_pkgs=(postgresql sqlite3 chromium)
bench_pkgs=(wrk nginx-light hyperfine)

groups=("$@")
[[ ${#groups[@]} -eq 0 ]] && groups=(build)

want=()
need_npm=0
for g in "${groups[@]}"; do
	case $g in
	build) want+=("${build_pkgs[@]}") ;;
	test)
		want+=("${test_pkgs[@]}")
		# The machine may carry its own Node.js (e.g. from NodeSource, whose
		# nodejs package includes npm); Debian's nodejs and npm are only
		# installed when there is no node at all.
		if ! command -v node >/dev/null 2>&1; then
			want+=(nodejs npm)
		elif ! command -v npm >/dev/null 2>&1; then
			want+=(npm)
		fi
		need_npm=1
		;;
	bench) want+=("${bench_pkgs[@]}") ;;
	all)
		exec "$0" build test bench
		;;
	*)
		echo "usage: $0 [build] [test] [bench] [all]" >&2
		exit 2
		;;
	esac
done

missing=()
for p in "${want[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	if [[ $st != ii* ]]; then
		case " ${missing[*]-} " in
		*" $p "*) ;;
		*) missing+=("$p") ;;
		esac
	fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo)
		else
			echo "deps: missing Debian packages: ${missing[*]}" >&2
			echo "deps: run this script as root (or install sudo) to install them" >&2
			exit 1
		fi
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get -q -y update >/dev/null
	"${sudo[@]}" apt-get -q -y -o Dpkg::Use-Pty=0 install --no-install-recommends \
		"${missing[@]}" >/dev/null
	echo "deps: installed ${#missing[@]} packages"
fi

if [[ $need_npm -eq 1 ]]; then
	if [[ ! -d node_modules || ! -f node_modules/.package-lock.json ||
		package-lock.json -nt node_modules/.package-lock.json ]]; then
		echo "deps: npm ci"
		# playwright-core never downloads a browser; the tests use Debian's chromium.
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	fi
fi
