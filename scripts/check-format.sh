#!/usr/bin/env bash
# Checks that every C file under src/, tests/, fuzz/ and bench/ is formatted as
# .clang-format says (clang-format 14), and lists the files that are not.
# Usage: scripts/check-format.sh [--fix]   (--fix rewrites them in place)
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
if [[ ${1:-} == --fix ]]; then
	fix=1
elif [[ $# -gt 0 ]]; then
	echo "usage: $0 [--fix]" >&2
	exit 2
fi

cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null; then
	echo "check-format: $cf not found (scripts/deps.sh build installs it)" >&2
	exit 2
fi

mapfile -d '' files < <(find src tests fuzz bench -type f \( -name '*.c' -o -name '*.h' \) \
	-print0 2>/dev/null | sort -z)
if [[ ${#files[@]} -eq 0 ]]; then
	echo "check-format: no C files found"
	exit 0
fi

if [[ $fix -eq 1 ]]; then
	"$cf" -i --style=file "${files[@]}"
	echo "check-format: formatted ${#files[@]} files"
	exit 0
fi

bad=()
for f in "${files[@]}"; do
	if ! "$cf" --dry-run -Werror --style=file "$f" >/dev/null 2>&1; then
		bad+=("$f")
	fi
done

if [[ ${#bad[@]} -gt 0 ]]; then
	echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format:" >&2
	printf '  %s\n' "${bad[@]}" >&2
	echo "check-format: see the changes with: $cf --dry-run FILE; fix with: make format" >&2
	exit 1
fi
echo "check-format: ${#files[@]} files OK"
