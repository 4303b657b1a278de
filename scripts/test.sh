#!/usr/bin/env bash
# Runs madoguchi's test layers against builds that already exist (`make test`
# makes them first) and ends with exactly one summary line, "N passed, N
# failed", summed over the layers; exits non-zero when anything failed or
# nothing ran. docs/TESTING.md explains the layers and how each is counted.
#
# Usage: scripts/test.sh [LAYER...]      (default: all of them, in this order)
#   unit        cmocka tests through ctest, in build/ and build-asan/
#   http-sqlite node --test tests/http/ against build-asan/madoguchi on SQLite
#   http-pg     the same against build/madoguchi on a temporary PostgreSQL 15
#   e2e         node --test tests/e2e/ in Debian's chromium (playwright-core, axe)
#   fuzz        every build-fuzz/fuzz_* for FUZZ_SMOKE_SECONDS (default 10) each
# Environment: BUILD, BUILD_ASAN, BUILD_FUZZ (directories), FUZZ_SMOKE_SECONDS,
# FUZZ_WORK (scratch corpora), MADO_TEST_LOGS (where logs go; default a new
# /tmp/mado-test.* directory).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

abspath() { if [[ $1 == /* ]]; then echo "$1"; else echo "$ROOT/$1"; fi; }
BUILD=$(abspath "${BUILD:-build}")
BUILD_ASAN=$(abspath "${BUILD_ASAN:-build-asan}")
BUILD_FUZZ=$(abspath "${BUILD_FUZZ:-build-fuzz}")
FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-10}
LOGS=${MADO_TEST_LOGS:-$(mktemp -d /tmp/mado-test.XXXXXX)}
mkdir -p "$LOGS"

# Sanitizer runs stop at the first error and report leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Leaks inside system libraries, if any must be ignored, are listed there.
if [[ -z ${LSAN_OPTIONS:-} && -f tests/lsan.supp ]]; then
	export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
fi
# No server options leak in from the caller's environment.
while IFS='=' read -r name _; do
	[[ $name == MADOGUCHI_* ]] && unset "$name"
done < <(env)
unset MADO_TEST_PG_URL

layers=("$@")
[[ ${#layers[@]} -eq 0 ]] && layers=(unit http-sqlite http-pg e2e fuzz)

total_pass=0
total_fail=0
results=()

record() { # LABEL PASSED FAILED [NOTE]
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	results+=("$(printf '  %-24s %5d passed, %5d failed%s' "$1" "$2" "$3" "${4:+  ($4)}")")
}

banner() {
	printf '\n==== %s ====\n' "$*"
}

# --- (a) unit tests -------------------------------------------------------
# Counted per cmocka test case: each executable prints "[  PASSED  ] N
# test(s)." and "[  FAILED  ] N test(s)"; ctest -V prefixes each line with the
# test's number. An executable that fails without a cmocka summary (crash,
# sanitizer report at exit, missing binary) counts as one failure more.
unit_layer() { # BUILD_DIR LABEL [CTEST_REGEX]
	local dir=$1 label=$2 log="$LOGS/$2.log" counts p f
	local only=()
	[[ -n ${3:-} ]] && only=(-R "$3")
	banner "$label: ctest in $dir"
	if [[ ! -f $dir/CTestTestfile.cmake ]]; then
		echo "no CMake build in $dir (run make test, or make build)"
		record "$label" 0 1 "no build"
		return
	fi
	ctest --test-dir "$dir" -V -j"${UNIT_JOBS:-2}" --timeout 600 "${only[@]}" >"$log" 2>&1
	counts=$(perl -ne '
		if (/^(\d+): \[  PASSED  \] (\d+) test/) { $pass{$1} += $2; $seen{$1} = 1 }
		if (/^(\d+): \[  FAILED  \] (\d+) test/) { $fail{$1} += $2; $seen{$1} = 1 }
		if (my ($t, $n, $res) = /^\s*\d+\/\d+ Test\s+#(\d+): (\S+) [ .]*(?:\*\*\*)?(.*)$/) {
			$name{$t} = $n; $ok{$t} = ($res =~ /^Passed/) ? 1 : 0; $done{$t} = 1;
		}
		END {
			my ($P, $F, @bad) = (0, 0);
			for my $t (sort { $a <=> $b } keys %done) {
				if ($seen{$t}) { $P += $pass{$t} // 0; $F += $fail{$t} // 0 } elsif ($ok{$t}) { $P++ }
				if (!$ok{$t}) { $F++ if !($fail{$t} // 0); push @bad, "$name{$t}:$t" }
			}
			print join(" ", $P, $F, @bad), "\n";
		}' "$log")
	read -r p f bad <<<"$counts"
	grep -E '^ *[0-9]+/[0-9]+ Test +#|tests passed|tests failed|No tests were found' "$log"
	if [[ -n ${bad:-} ]]; then
		for t in $bad; do
			echo "---- output of ${t%%:*} (last 60 lines) ----"
			grep -E "^${t##*:}: " "$log" | tail -n 60
		done
	fi
	echo "$label: $p passed, $f failed (cmocka test cases; log: $log)"
	record "$label" "$p" "$f"
}

# --- node's test runner ---------------------------------------------------
# Human-readable spec output on stdout, TAP into a file whose closing "# pass
# N", "# fail N" and "# cancelled N" lines are counted (a test cancelled
# because its server did not start is a failure).
node_layer() { # LABEL TIMEOUT_SECONDS FILES...
	local label=$1 secs=$2 tap="$LOGS/$1.tap" rc p f c
	shift 2
	local files=()
	for x in "$@"; do [[ -f $x ]] && files+=("$x"); done
	if [[ ${#files[@]} -eq 0 ]]; then
		echo "no test files: $*"
		record "$label" 0 1 "no test files"
		return
	fi
	timeout --kill-after=30 "$secs" node --test --test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter=tap --test-reporter-destination="$tap" "${files[@]}"
	rc=$?
	p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n1)
	f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n1)
	c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n1)
	if [[ -z $p || -z $f ]]; then
		echo "$label: the test runner ended without a summary (exit $rc)"
		record "$label" "${p:-0}" $((${f:-0} + ${c:-0} + 1)) "runner exit $rc"
		return
	fi
	f=$((f + ${c:-0}))
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		f=1 # e.g. killed by timeout after the summary, or an error outside tests
	fi
	echo "$label: $p passed, $f failed (log: $tap)"
	record "$label" "$p" "$f"
}

http_sqlite_layer() {
	banner "http-sqlite: tests/http against $BUILD_ASAN/madoguchi (ASan+UBSan) on SQLite"
	if [[ ! -x $BUILD_ASAN/madoguchi ]]; then
		echo "$BUILD_ASAN/madoguchi is missing"
		record http-sqlite 0 1 "no server binary"
		return
	fi
	MADO_BIN=$BUILD_ASAN/madoguchi MADO_MKCERTS=$(mkcerts_path) \
		node_layer http-sqlite 2400 tests/http/*.test.mjs
}

mkcerts_path() {
	local d
	for d in "$BUILD" "$BUILD_ASAN"; do
		[[ -x $d/mkcerts ]] && { echo "$d/mkcerts"; return; }
	done
	echo "$BUILD/mkcerts"
}

PG_DIR=
stop_pg() {
	if [[ -n $PG_DIR ]]; then
		scripts/pg-temp.sh stop "$PG_DIR" >/dev/null 2>&1 || echo "warning: pg-temp.sh stop $PG_DIR failed" >&2
		PG_DIR=
	fi
}
trap stop_pg EXIT
trap 'stop_pg; exit 130' INT TERM

http_pg_layer() {
	banner "http-pg: tests/http against $BUILD/madoguchi on a temporary PostgreSQL 15"
	if [[ ! -x $BUILD/madoguchi ]]; then
		echo "$BUILD/madoguchi is missing"
		record http-pg 0 1 "no server binary"
		return
	fi
	if [[ ! -x scripts/pg-temp.sh ]]; then
		echo "scripts/pg-temp.sh is missing"
		record http-pg 0 1 "no pg-temp.sh"
		return
	fi
	local out line
	if ! out=$(scripts/pg-temp.sh start 2>"$LOGS/pg-temp.err"); then
		cat "$LOGS/pg-temp.err"
		record http-pg 0 1 "PostgreSQL did not start"
		return
	fi
	# pg-temp.sh prints "export MADO_TEST_PG_URL=…" and the server's directory
	# (as a bare path or as another export line).
	local url='' dir=''
	while IFS= read -r line; do
		case $line in
		export\ MADO_TEST_PG_URL=*)
			url=${line#export MADO_TEST_PG_URL=}
			url=${url#[\"\']}; url=${url%[\"\']}
			;;
		export\ *DIR=*)
			dir=${line#export *DIR=}
			dir=${dir#[\"\']}; dir=${dir%[\"\']}
			;;
		*)
			# a bare path, or "…: /path": the last word, if it is a directory
			local last=${line##* }
			[[ -z $dir && $last == /* && -d $last ]] && dir=$last
			;;
		esac
	done <<<"$out"
	PG_DIR=$dir
	if [[ -z $url ]]; then
		echo "pg-temp.sh start printed no MADO_TEST_PG_URL:"
		echo "$out"
		record http-pg 0 1 "no PostgreSQL URL"
		stop_pg
		return
	fi
	echo "PostgreSQL: $url (directory ${dir:-unknown})"
	MADO_BIN=$BUILD/madoguchi MADO_MKCERTS=$(mkcerts_path) MADO_TEST_PG_URL=$url \
		node_layer http-pg 2400 tests/http/*.test.mjs
	# the unit tests that have a PostgreSQL half run it against the same server
	# one at a time: they share one database, whose single write lock (an advisory
	# lock, 5 s timeout) a long corporate import in test_corp would hold against the others
	MADO_TEST_PG_URL=$url UNIT_JOBS=1 unit_layer "$BUILD" unit-pg 'test_(db|audit|jobs|corp|resident|resident_csv|resident_household|resident_address|populate)$'
	stop_pg
}

e2e_layer() {
	banner "e2e: tests/e2e in $(command -v chromium || echo chromium) against $BUILD/madoguchi"
	if [[ ! -x $BUILD/madoguchi ]]; then
		record e2e 0 1 "no server binary"
		return
	fi
	if [[ ! -d node_modules/playwright-core ]]; then
		echo "node_modules/playwright-core is missing: run scripts/deps.sh test"
		record e2e 0 1 "no playwright-core"
		return
	fi
	MADO_BIN=$BUILD/madoguchi node_layer e2e 1200 tests/e2e/*.test.mjs
}

# --- (d) fuzz smoke -------------------------------------------------------
# Each libFuzzer driver runs for FUZZ_SMOKE_SECONDS from its seed corpus
# (fuzz/corpus/<driver>, or fuzz/corpus/<driver without fuzz_>); one driver is
# one test. New inputs go to a scratch corpus under the log directory, so the
# checked-in seeds are never touched (FUZZ_WORK moves it; `make fuzz` keeps it
# in build-fuzz/work); crashes leave their input there too.
fuzz_layer() {
	banner "fuzz: each $BUILD_FUZZ/fuzz_* for ${FUZZ_SMOKE_SECONDS}s"
	local srcs=(fuzz/fuzz_*.c) p=0 f=0 drv name seed work rc
	if [[ ! -e ${srcs[0]} ]]; then
		echo "no fuzz drivers in fuzz/"
		return
	fi
	for src in "${srcs[@]}"; do
		name=$(basename "$src" .c)
		drv=$BUILD_FUZZ/$name
		if [[ ! -x $drv ]]; then
			echo "FAIL $name: $drv was not built"
			f=$((f + 1))
			continue
		fi
		seed=fuzz/corpus/$name
		[[ -d $seed ]] || seed=fuzz/corpus/${name#fuzz_}
		work=${FUZZ_WORK:-$LOGS/fuzz}/$name
		mkdir -p "$work/corpus"
		local args=(-max_total_time="$FUZZ_SMOKE_SECONDS" -timeout=10 -rss_limit_mb=2048
			-print_final_stats=1 -artifact_prefix="$work/" "$work/corpus")
		[[ -d $seed ]] && args+=("$seed")
		timeout --kill-after=10 $((FUZZ_SMOKE_SECONDS + 120)) "$drv" "${args[@]}" >"$work/log" 2>&1
		rc=$?
		if [[ $rc -eq 0 ]]; then
			echo "ok   $name ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$') runs)"
			p=$((p + 1))
		else
			echo "FAIL $name (exit $rc; log $work/log)"
			grep -E 'ERROR|SUMMARY|Test unit written' "$work/log" | head -n 20
			f=$((f + 1))
		fi
	done
	record fuzz "$p" "$f"
}

for layer in "${layers[@]}"; do
	case $layer in
	unit)
		unit_layer "$BUILD" unit
		unit_layer "$BUILD_ASAN" unit-asan
		;;
	http-sqlite) http_sqlite_layer ;;
	http-pg) http_pg_layer ;;
	http)
		http_sqlite_layer
		http_pg_layer
		;;
	e2e) e2e_layer ;;
	fuzz) fuzz_layer ;;
	*)
		echo "unknown layer $layer (unit, http-sqlite, http-pg, http, e2e, fuzz)" >&2
		exit 2
		;;
	esac
done

banner "summary (logs in $LOGS)"
printf '%s\n' "${results[@]}"
echo "$total_pass passed, $total_fail failed"
if [[ $total_fail -ne 0 || $total_pass -eq 0 ]]; then
	exit 1
fi
exit 0
