#!/usr/bin/env bash
# parley-bench, one tiny pass of each workload for parley and raw UDP (and
# ENet through `compare`): every run must print one well-formed result
# line with nonzero figures, and bad arguments must be refused. Builds
# nothing: when BUILD_DIR has no benchmark (the normal build does not
# enable it) the test says so and passes.
#   bash tests/tools/bench_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail

build=${1:?usage: bench_test.sh BUILD_DIR SOURCE_DIR}
bin=
for b in "$build/bench/parley-bench" "$build/parley-bench"; do
    if [ -x "$b" ]; then bin=$b; break; fi
done
if [ -z "$bin" ]; then
    echo "SKIP: no parley-bench in $build: benchmarks are built only with" \
        "-DPARLEY_BUILD_BENCH=ON (make bench); nothing to check here"
    exit 0
fi

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# check NAME LINE KEY... : LINE is a result line for NAME, without an
# error, and each KEY is present with a number above zero.
check() {
    local name=$1 line=$2
    shift 2
    if ! grep -q '^lib=[a-z]* workload=[a-z0-9_]*' <<<"$line"; then
        bad "$name: no result line (got: ${line:-nothing})"
        return
    fi
    if grep -q ' error=' <<<"$line"; then
        bad "$name: $line"
        return
    fi
    local k v
    for k in "$@"; do
        v=$(sed -n "s/.* $k=\([^ ]*\).*/\1/p" <<<" $line")
        if ! awk -v v="$v" 'BEGIN { exit !(v ~ /^[0-9.e+]+$/ && v + 0 > 0) }'
        then
            bad "$name: $k=${v:-missing} in: $line"
            return
        fi
    done
    ok "$name: $line"
}

run() { # run ARGS... : the last result line of one bounded run
    timeout --kill-after=5 60 "$bin" run "$@" 2>/dev/null | grep '^lib=' |
        tail -1
}

for lib in parley udp; do
    check "rtt $lib" "$(run --lib $lib --workload rtt --n 200)" \
        p50_us p99_us max_us
    check "rtt1core $lib" "$(run --lib $lib --workload rtt1core --n 200)" \
        p50_us p99_us max_us
    check "small_unrel $lib" \
        "$(run --lib $lib --workload small_unrel --n 20000)" \
        msgs_s delivered dgrams
done
check "small_rel parley" "$(run --lib parley --workload small_rel --n 20000)" \
    msgs_s delivered dgrams
l=$(run --lib parley --workload small_rel --n 20000)
grep -q ' delivered=20000 ' <<<"$l" && ok "small_rel delivers every message" ||
    bad "small_rel lost reliable messages: $l"
check "bulk parley" "$(run --lib parley --workload bulk --bytes 2097152)" \
    mb_s bytes dgrams
l=$(run --lib parley --workload bulk --bytes 2097152)
grep -q ' bytes=2097152 .*complete=1' <<<"$l" && ok "bulk delivers every byte" ||
    bad "bulk incomplete: $l"
check "conns parley" "$(run --lib parley --workload conns --k 20 --secs 1)" \
    delivered_pct connect_ms srv_rss_kb delivered
if [ -x "$build/parley-netem" ]; then
    check "bulk parley via netem" "$(run --lib parley --workload bulk \
        --bytes 1048576 --via-netem '--loss 5 --delay 2' --name bulk_netem)" \
        mb_s bytes
fi

# compare: parley and ENet alternately, one pair, one workload.
l=$(timeout --kill-after=5 60 "$bin" compare --quick --only small_rel \
    2>/dev/null | grep '^compare ')
if grep -q '^compare workload=small_rel metric=msgs_s pairs=1 parley=.* enet=.* ratio=[0-9]' <<<"$l"; then
    ok "compare: $l"
else
    bad "compare: ${l:-no compare line}"
fi

# Bad arguments: a clear error and status 2, never a crash.
for args in "run --lib nosuch --workload rtt" "run --lib udp --workload bulk" \
    "run --lib parley --workload nosuch" "run --lib parley --workload rtt --n x" \
    "run --lib parley --workload rtt --n" "nosuch" "compare --pairs 0"; do
    # shellcheck disable=SC2086
    err=$(timeout 10 "$bin" $args 2>&1 >/dev/null)
    st=$?
    if [ "$st" -eq 2 ] && [ -n "$err" ]; then
        ok "refused: $args"
    else
        bad "parley-bench $args: status $st, message '${err}'"
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
