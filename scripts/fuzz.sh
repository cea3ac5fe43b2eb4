#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz_*) found in BUILD_DIR for SECONDS each,
# seeded from fuzz/corpus/<target>/. New corpus entries and crash inputs go
# to a temporary directory, never into the repository. Exits non-zero if
# any target crashed (or failed to start).
#   usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [SECONDS]" >&2
    exit 2
fi
build=$1
seconds=${2:-10}
case $seconds in
    '' | *[!0-9]*)
        echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2
        exit 2
        ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)

mapfile -t targets < <(find "$build" -maxdepth 3 -type f -name 'fuzz_*' \
    -perm -u+x 2>/dev/null | sort)
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz.sh: no fuzz_* executables under $build (run: make fuzz)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/parley-fuzz.XXXXXX")
status=0
for exe in "${targets[@]}"; do
    name=$(basename "$exe")
    target=${name#fuzz_}
    seeds="$root/fuzz/corpus/$target"
    out="$work/$target"
    mkdir -p "$out/corpus" "$out/crashes"
    dirs=("$out/corpus")
    if [ -d "$seeds" ]; then
        dirs+=("$seeds")
    fi
    echo "== $name: ${seconds}s, seeds $seeds"
    # The first corpus directory receives new entries: the temp one.
    if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$out/crashes/" "${dirs[@]}" >"$out/log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
        echo "   ok: ${runs:-?} runs, $(ls "$out/corpus" | wc -l) new corpus entries"
    else
        echo "   FAILED: see $out/log; crash inputs in $out/crashes/"
        tail -n 40 "$out/log"
        status=1
    fi
done
echo "fuzz output kept in $work"
exit $status
