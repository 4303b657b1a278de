# madoguchi: the commands people type. CMake does the building; this file
# only names the builds and the order of the steps. See README.md and
# docs/TESTING.md.
#
#   make run     install what is missing, build, init the demo into ./var, serve :8080
#   make test    install, build (gcc, ASan+UBSan, clang, libFuzzer), check, run every layer
#   make bench   install the benchmark tools, build, run the benchmarks
#   make fuzz    run each libFuzzer driver for FUZZ_SECONDS (default 60)
#   make build   the normal build only (build/madoguchi)
#   make format  rewrite the C sources in the .clang-format style
#   make clean   remove the build directories (distclean: also var/ and node_modules/)

SHELL := /bin/bash
.DEFAULT_GOAL := build

JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
FUZZ_SECONDS ?= 60
DATA_DIR ?= var
LISTEN ?= 127.0.0.1
PORT ?= 8080
# ABR's mt_city_all.csv.zip for the municipality's name; empty: the server's
# default (../shared/data/abr/ beside the repository).
ABR_CITY ?=
# The Address Base Registry files of the demo municipality 和歌山市 (302015).
ABR_DIR ?= ../shared/data/abr
ABR_DEMO_FILES = mt_pref_all.csv.zip mt_pref_pos_all.csv.zip mt_city_all.csv.zip \
	mt_city_pos_all.csv.zip mt_town_pref30.csv.zip mt_town_pos_pref30.csv.zip \
	mt_town_all.csv.zip mt_rsdtdsp_rsdt_pref30.csv.zip mt_rsdtdsp_rsdt_pos_pref30.csv.zip \
	mt_parcel_city302015.csv.zip mt_parcel_pos_city302015.csv.zip
# Town names of all Japan (japanese-addresses), for addresses outside the ABR files.
TOWNS_CSV ?= ../shared/data/japanese-addresses/towns.csv
# Residents `make run` makes for 和歌山市 (the benchmarks use 1,000,000; the city has ~360,000).
DEMO_RESIDENTS ?= 20000

CMAKE_CONFIGURE = cmake -S . -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

.PHONY: build build-server build-asan build-clang build-fuzz run test check check-banned check-format \
	format bench fuzz clean distclean deps deps-test deps-bench

# --- builds -----------------------------------------------------------------
# CC is read by CMake only when a build directory is first configured, so each
# directory keeps its compiler.

build:
	CC=gcc $(CMAKE_CONFIGURE) -B build
	cmake --build build -j$(JOBS)

# Only the server binary (what `make run` needs).
build-server:
	CC=gcc $(CMAKE_CONFIGURE) -B build
	cmake --build build -j$(JOBS) --target madoguchi

build-asan:
	CC=gcc $(CMAKE_CONFIGURE) -B build-asan -DMADO_SANITIZE=ON
	cmake --build build-asan -j$(JOBS)

# clang must build the whole tree warning-free too (-Werror comes from
# CMakeLists.txt; it is repeated here so the check holds on its own).
build-clang:
	CC=clang $(CMAKE_CONFIGURE) -B build-clang -DCMAKE_C_FLAGS=-Werror
	cmake --build build-clang -j$(JOBS)

build-fuzz:
	CC=clang $(CMAKE_CONFIGURE) -B build-fuzz -DMADO_FUZZ=ON
	cmake --build build-fuzz -j$(JOBS)

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh build test

deps-bench:
	@scripts/deps.sh build bench

# --- run ----------------------------------------------------------------------
# `init` is idempotent: a second `make run` keeps the data in $(DATA_DIR). It
# prints the demo log-ins (resident, 市民課 clerk, administrator of 和歌山市).
run: deps build-server
	@mkdir -p $(DATA_DIR)
	build/madoguchi init --demo --data-dir $(DATA_DIR) $(if $(ABR_CITY),--abr-city $(ABR_CITY))
	@# 和歌山市's Address Base Registry (re-importing changes nothing)
	@if [ -f $(ABR_DIR)/mt_parcel_city302015.csv.zip ]; then \
		build/madoguchi import abr --data-dir $(DATA_DIR) --log-level warn \
			$(addprefix $(ABR_DIR)/,$(ABR_DEMO_FILES)); \
	else echo "($(ABR_DIR) not found: the demo runs without address data)"; fi
	@# nationwide town names for the address normalizer (after mt_city_all)
	@if [ -f $(TOWNS_CSV) ] && [ -f $(ABR_DIR)/mt_city_all.csv.zip ]; then \
		build/madoguchi import towns --data-dir $(DATA_DIR) --log-level warn $(TOWNS_CSV); \
	else echo "($(TOWNS_CSV) not found: addresses outside the ABR files stop at the municipality)"; fi
	@# a synthetic population on those addresses, once; the demo log-in "resident" gets a record
	@if [ -f $(ABR_DIR)/mt_parcel_city302015.csv.zip ]; then \
		build/madoguchi demo populate --data-dir $(DATA_DIR) --log-level warn \
			--residents $(DEMO_RESIDENTS) --if-empty --link-login resident; fi
	@printf '\nOpen http://%s:%s/ in a browser and log in with one of the accounts above.\n' '$(LISTEN)' '$(PORT)'
	@printf 'Stop the server with Ctrl-C.\n\n'
	exec build/madoguchi serve --data-dir $(DATA_DIR) --listen $(LISTEN) --port $(PORT)

# --- test ---------------------------------------------------------------------
# The steps run one after another even under make -j; scripts/test.sh prints
# the final "N passed, N failed" line.
test:
	@scripts/deps.sh build test
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory build-asan
	@$(MAKE) --no-print-directory build-clang
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory build-fuzz
	scripts/test.sh

check: check-banned check-format

check-banned:
	@scripts/check-banned.sh

check-format:
	@scripts/check-format.sh

format:
	@scripts/check-format.sh --fix

# --- bench and fuzz -------------------------------------------------------------
# bench/run.sh (when present) drives wrk, nginx and hyperfine and writes the
# figures for docs/PERFORMANCE.md; otherwise each bench_* program runs alone.
bench: deps-bench build
	@if [[ -x bench/run.sh ]]; then \
		bench/run.sh; \
	else \
		set -e; shopt -s nullglob; found=0; \
		for b in build/bench_*; do [[ -x $$b && -f $$b ]] || continue; found=1; echo "== $$b"; $$b; done; \
		[[ $$found -eq 1 ]] || { echo "no benchmarks built (bench/bench_*.c)"; exit 1; }; \
	fi

# New corpus entries and crash inputs go to build-fuzz/work/<driver>/; the
# seeds in fuzz/corpus/ are only read.
fuzz: deps build-fuzz
	FUZZ_SMOKE_SECONDS=$(FUZZ_SECONDS) FUZZ_WORK=build-fuzz/work scripts/test.sh fuzz

# --- clean --------------------------------------------------------------------
clean:
	rm -rf build build-asan build-clang build-fuzz

distclean: clean
	rm -rf $(DATA_DIR) node_modules
