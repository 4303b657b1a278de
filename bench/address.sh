#!/usr/bin/env bash
# Address normalizer benchmark: madoguchi's `address normalize` beside the two published
# peers (../shared/peers: abr-geocoder 2.2.0 and normalize-japanese-addresses 3.1.3), in one run,
# on the same input files. Prints addr/s, the ratios and the accuracy (bench/address_accuracy.mjs).
#
#   bench/address.sh [BUILD_DIR]        (part of `make bench`; default build dir: build/)
#
# env: WORK        work folder: data dir, inputs, outputs (default /tmp/mado-bench-address)
#      PEERS_DIR   peers' install folder (default <repo>/.peers; not committed)
#      ABR_DIR     ABR zips (default ../shared/data/abr); TOWNS_CSV: towns.csv
#      BIG_N       lines of the large input for madoguchi's own throughput (default 200000)
#      SKIP_PEERS=1  run madoguchi only; REBUILD=1 re-create the data dir
#      SHOW=N      town-level disagreements of madoguchi to print (default 30)
# Offline once the peers are installed (their first setup needs the npm registry).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-${BUILD:-$root/build}}")
bin=$build/madoguchi
shared=$(cd "$root/../shared" && pwd)
peers=$shared/peers
abr=${ABR_DIR:-$shared/data/abr}
towns=${TOWNS_CSV:-$shared/data/japanese-addresses/towns.csv}
tests_csv=$shared/data/address-tests/geolonia-addresses.csv
work=${WORK:-/tmp/mado-bench-address}
export PEERS_DIR=${PEERS_DIR:-$root/.peers}
export ABR_DATA_DIR=$abr
big_n=${BIG_N:-200000}
mkdir -p "$work/in" "$work/out"
t_start=$SECONDS

pin=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
	pin=(taskset -c 0)
fi
# `addr_per_s=N` from the timing line of a runner's stderr
rate() { grep -o 'addr_per_s=[0-9.]*' "$1" | tail -n 1 | cut -d= -f2 || true; }

# ---- inputs (deterministic; rebuilt only when missing) -----------------------------------
in=$work/in
if [[ ! -s $in/rsdt.txt || ! -s $in/parcel.txt ]]; then
	node "$peers/lib/make-sample.js" "$abr" 1000 "$in/rsdt" rsdt
	node "$peers/lib/make-sample.js" "$abr" 1000 "$in/parcel" parcel
fi
if [[ ! -s $in/tests.txt ]]; then
	# first column of the test set (an RFC 4180 file: parsed, not cut)
	node -e '
		const { parseCsv } = require(process.argv[1]);
		const fs = require("node:fs");
		const rows = parseCsv(fs.readFileSync(process.argv[2], "utf8")).slice(1)
			.filter(r => !(r.length === 1 && r[0] === ""));
		fs.writeFileSync(process.argv[3], rows.map(r => r[0].replace(/[\r\n]+/g, " ")).join("\n") + "\n");
	' "$peers/lib/abrzip.js" "$tests_csv" "$in/tests.txt"
fi
if [[ ! -s $in/big.txt || $(wc -l <"$in/big.txt") -ne $big_n ]]; then
	# the three sets in turn, each line in one of four spellings: as is, half-width
	# (NFKC), full-width digits and hyphens, without the prefecture
	node -e '
		const fs = require("node:fs");
		const [n, out, ...files] = process.argv.slice(1);
		const base = files.flatMap(f => fs.readFileSync(f, "utf8").split("\n").filter(Boolean));
		const prefs = /^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)/u;
		const full = s => s.replace(/[0-9-]/g, c => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
		const lines = [];
		for (let i = 0; lines.length < +n; i++) {
			const s = base[i % base.length];
			const v = Math.floor(i / base.length) % 4;
			lines.push(v === 0 ? s : v === 1 ? s.normalize("NFKC") : v === 2 ? full(s) : s.replace(prefs, ""));
		}
		fs.writeFileSync(out, lines.join("\n") + "\n");
	' "$big_n" "$in/big.txt" "$in/rsdt.txt" "$in/parcel.txt" "$in/tests.txt"
fi
sets=(rsdt parcel tests)
declare -A n
for s in "${sets[@]}" big; do n[$s]=$(wc -l <"$in/$s.txt"); done

# ---- madoguchi: data dir (init + imports), reused while the source files are unchanged ---
have_mado=0
data=$work/data
export MADOGUCHI_DATA_DIR=$data MADOGUCHI_LOG_LEVEL=warn
if [[ ! -x $bin ]]; then
	echo "madoguchi: $bin not found (make build); measuring the peers only"
else
	stamp=$(stat -c "%s %n" "$abr"/*.zip "$towns" 2>/dev/null || true)
	if [[ -n ${REBUILD:-} || ! -f $data/.bench-stamp || $(cat "$data/.bench-stamp") != "$stamp" ]]; then
		echo "madoguchi: building the data dir $data (init, import abr, import towns)"
		rm -rf "$data"
		ok=1
		"$bin" init >/dev/null || ok=0
		if ((ok)); then "$bin" import abr "$abr"/*.zip >"$work/import.log" || ok=0; fi
		if ((ok)) && ! "$bin" import towns "$towns" >>"$work/import.log"; then
			echo "madoguchi: 'import towns' failed: town-level data outside the ABR files is missing"
			ok=2
		fi
		if ((ok == 1)); then printf '%s' "$stamp" >"$data/.bench-stamp"; fi
	fi
	if head -n 1 "$in/rsdt.txt" | "$bin" address normalize --format ndjson - >/dev/null 2>"$work/out/probe.err"; then
		have_mado=1
	else
		echo "madoguchi: 'address normalize' failed or is not built yet:"
		sed 's/^/  /' "$work/out/probe.err" | head -n 5
	fi
fi

# ---- peers: install/build once (needs npm on the first run), then offline ------------------
have_abrg=0 have_abrg_towns=0 have_geo=0 have_geo_towns=0
if [[ -z ${SKIP_PEERS:-} ]]; then
	if "$peers/abrg-peer.sh" setup >"$work/out/abrg-setup.log" 2>&1; then have_abrg=1; else
		echo "abrg: setup failed (npm registry unreachable on first install?), see $work/out/abrg-setup.log"
	fi
	# abrg+towns: the same package on the ABR files plus towns.csv's towns as mt_town rows
	# (first build about 3 minutes; then reused while the files are unchanged)
	abrg_towns_data=$PEERS_DIR/abr-geocoder/data-towns
	if ((have_abrg)) && node "$root/bench/address_abrg_towns.mjs" "$abr" "$towns" "$PEERS_DIR/abr-towns" \
		>>"$work/out/abrg-setup.log" 2>&1 &&
		PEER_ABRG_ROOT=$PEERS_DIR/abr-geocoder node "$peers/lib/abrg-setup.js" "$PEERS_DIR/abr-towns" \
			"$abrg_towns_data" >>"$work/out/abrg-setup.log" 2>&1; then
		have_abrg_towns=1
	fi
	if "$peers/geolonia-peer.sh" setup >"$work/out/geolonia-setup.log" 2>&1; then have_geo=1; else
		echo "geolonia: setup failed (npm registry unreachable on first install?), see $work/out/geolonia-setup.log"
	fi
	# geolonia+towns: the same library on its ABR API plus towns.csv's town names
	geo_towns_api=$PEERS_DIR/geolonia/api-towns
	if ((have_geo)) && node "$root/bench/address_geolonia_towns.mjs" "$PEERS_DIR/geolonia/api" "$towns" \
		"$geo_towns_api" >>"$work/out/geolonia-setup.log" 2>&1; then
		have_geo_towns=1
	fi
fi

# ---- runs: every runner on the same files; madoguchi pinned to one core ---------------------
timing=$work/out/timing.tsv
printf 'set\trunner\tn\taddr_per_s\n' >"$timing"
out=$work/out
for s in "${sets[@]}"; do
	if ((have_mado)); then
		"${pin[@]}" "$bin" address normalize --format ndjson --timing "$in/$s.txt" \
			>"$out/madoguchi.$s.ndjson" 2>"$out/madoguchi.$s.err" || echo "madoguchi failed on $s"
		printf '%s\tmadoguchi\t%s\t%s\n' "$s" "${n[$s]}" "$(rate "$out/madoguchi.$s.err")" >>"$timing"
	fi
	if ((have_abrg)); then
		# bench/address_abrg.mjs: abrg crashes on 京都府 addresses; those lines become errors
		node "$root/bench/address_abrg.mjs" "$in/$s.txt" "$out/abrg.$s.ndjson" "$peers/abrg-peer.sh" \
			2>"$out/abrg.$s.err" || echo "abrg failed on $s"
		grep '^\[abrg-safe\]' "$out/abrg.$s.err" || true
		printf '%s\tabrg\t%s\t%s\n' "$s" "${n[$s]}" "$(rate "$out/abrg.$s.err")" >>"$timing"
	fi
	if ((have_abrg_towns)); then
		PEER_ABRG_ROOT=$PEERS_DIR/abr-geocoder ABRG_THREADS=1 node "$root/bench/address_abrg.mjs" "$in/$s.txt" \
			"$out/abrg+towns.$s.ndjson" node "$peers/lib/abrg-geocode.js" "$abrg_towns_data" \
			2>"$out/abrg+towns.$s.err" || echo "abrg+towns failed on $s"
		grep '^\[abrg-safe\]' "$out/abrg+towns.$s.err" || true
		printf '%s\tabrg+towns\t%s\t%s\n' "$s" "${n[$s]}" "$(rate "$out/abrg+towns.$s.err")" >>"$timing"
	fi
	if ((have_geo)); then
		"$peers/geolonia-peer.sh" "$in/$s.txt" >"$out/geolonia.$s.ndjson" 2>"$out/geolonia.$s.err" ||
			echo "geolonia failed on $s"
		printf '%s\tgeolonia\t%s\t%s\n' "$s" "${n[$s]}" "$(rate "$out/geolonia.$s.err")" >>"$timing"
	fi
	if ((have_geo_towns)); then
		PEER_GEOLONIA_ROOT=$PEERS_DIR/geolonia node "$peers/lib/geolonia-normalize.js" "$geo_towns_api" "$in/$s.txt" \
			>"$out/geolonia+towns.$s.ndjson" 2>"$out/geolonia+towns.$s.err" || echo "geolonia+towns failed on $s"
		printf '%s\tgeolonia+towns\t%s\t%s\n' "$s" "${n[$s]}" "$(rate "$out/geolonia+towns.$s.err")" >>"$timing"
	fi
done
if ((have_mado)); then
	# the large input: throughput only (output discarded); best of three runs
	best=
	for _ in 1 2 3; do
		"${pin[@]}" "$bin" address normalize --format ndjson --timing "$in/big.txt" \
			>/dev/null 2>"$out/madoguchi.big.err" || echo "madoguchi failed on big"
		r=$(rate "$out/madoguchi.big.err")
		if [[ -n $r ]] && { [[ -z $best ]] || awk -v a="$r" -v b="$best" 'BEGIN{exit !(a>b)}'; }; then best=$r; fi
	done
	printf 'big\tmadoguchi\t%s\t%s\n' "${n[big]}" "$best" >>"$timing"
fi

# ---- table ------------------------------------------------------------------------------------
specs=()
for s in "${sets[@]}"; do
	for r in madoguchi abrg abrg+towns geolonia geolonia+towns; do
		[[ -s $out/$r.$s.ndjson ]] || continue
		case $r in
		madoguchi) ((have_mado)) || continue ;;
		abrg) ((have_abrg)) || continue ;;
		abrg+towns) ((have_abrg_towns)) || continue ;;
		geolonia) ((have_geo)) || continue ;;
		geolonia+towns) ((have_geo_towns)) || continue ;;
		esac
		specs+=("$s:$r=$out/$r.$s.ndjson")
	done
done
echo
echo "## Address normalizer, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "madoguchi ${pin[*]:+pinned to core 0 (${pin[*]})}; abrg ABRG_THREADS=1; peers not pinned"
if ((${#specs[@]})); then
	node "$root/bench/address_accuracy.mjs" --tests "$tests_csv" --towns "$towns" --abr "$abr" \
		--expected "rsdt=$in/rsdt.expected.tsv" --expected "parcel=$in/parcel.expected.tsv" \
		--timing "$timing" --show "${SHOW:-30}" --json "$out/summary.json" "${specs[@]}"
else
	echo "nothing ran"
fi
echo
echo "inputs: $in, outputs and timing lines: $out; total $((SECONDS - t_start)) s"
