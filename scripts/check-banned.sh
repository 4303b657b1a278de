#!/usr/bin/env bash
# Fails when C code under src/, tests/, fuzz/ or bench/ calls a function that
# CONVENTIONS.md bans (unbounded copies, unchecked conversions, hidden state).
# Comments and string literals are ignored, so prose may name the functions.
set -euo pipefail
cd "$(dirname "$0")/.."

banned='strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok'

mapfile -d '' files < <(find src tests fuzz bench -type f \( -name '*.c' -o -name '*.h' \) \
	-print0 2>/dev/null | sort -z)
if [[ ${#files[@]} -eq 0 ]]; then
	echo "check-banned: no C files found"
	exit 0
fi

# perl blanks out comments and string/char literals (keeping the newlines, so
# line numbers stay right), then reports each call: FILE:LINE: name(.
hits=$(BANNED="$banned" perl -e '
	my $re = qr/(?<![A-Za-z0-9_.>])($ENV{BANNED})\s*\(/;
	my $n = 0;
	for my $f (@ARGV) {
		open(my $fh, "<", $f) or die "$f: $!\n";
		local $/;
		my $src = <$fh>;
		close $fh;
		$src =~ s{(/\*.*?\*/)|(//[^\n]*)|("(?:\\.|[^"\\\n])*")|(\x27(?:\\.|[^\x27\\\n])*\x27)}{
			my $m = $&;
			defined $3 ? q("") : defined $4 ? q(\x27\x27) : "\n" x ($m =~ tr/\n//);
		}gse;
		my @lines = split /\n/, $src, -1;
		for my $i (0 .. $#lines) {
			while ($lines[$i] =~ /$re/g) {
				print "$f:", $i + 1, ": $1()\n";
				$n++;
			}
		}
	}
' "${files[@]}")

if [[ -n $hits ]]; then
	echo "check-banned: banned functions called (see CONVENTIONS.md; use src/common/buf.h," >&2
	echo "check-banned: snprintf, strtol/strtoll with end-pointer checks, strtok_r):" >&2
	printf '%s\n' "$hits" | sed 's/^/  /' >&2
	exit 1
fi
echo "check-banned: ${#files[@]} files OK"
