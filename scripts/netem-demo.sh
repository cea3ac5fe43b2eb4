#!/usr/bin/env bash
# The link simulator on its own: a UDP echo server behind parley-netem
# with a visibly bad network, pinged at 50 Hz for 10 s; shows what the
# pings saw next to what the link was set to do. Exits non-zero when
# something did not work. (This was `make demo` before the events layer;
# scripts/demo.sh is now.) Usage: scripts/netem-demo.sh BUILD_DIR
set -u
build=${1:-build}
NETEM=$build/parley-netem
ECHO=$build/example_udp_echo
PING=$build/example_udp_ping
LOSS=5 DELAY=40 JITTER=10 DUP=2 REORDER=2 REORDER_MS=50 COUNT=500 INTERVAL=20

tmp=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "demo: $*" >&2; exit 1; }

for exe in "$NETEM" "$ECHO" "$PING"; do
    [ -x "$exe" ] || die "$exe is missing: build first (make build)"
done

# start LOG CMD...: starts CMD in the background, waits up to 5 s for its
# "listening on ADDR:PORT" line and sets $port and $pid.
start() {
    local log=$1
    shift
    : >"$log"
    "$@" 2>"$log" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")
        [ -n "$port" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$log" >&2
    die "could not start $1"
}

# stop PID: SIGTERM, and at most 5 s for it to finish.
stop() {
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

field() { sed -En "s/(^|.*[ :])$2=([0-9.-]+).*/\2/p" <<<"$1" | head -n 1; }
pct() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", b ? 100 * a / b : 0 }'
}

cat <<EOF
parley demo: a UDP program on a bad network
-------------------------------------------
parley-netem is a UDP proxy built on parley's link simulator. Here it sits
between example_udp_ping and example_udp_echo on 127.0.0.1 and makes the
link, in each direction: ${LOSS}% loss, ${DELAY} ms delay +- ${JITTER} ms jitter,
${DUP}% duplicates, and ${REORDER}% held back ${REORDER_MS} ms so that later
datagrams overtake them. The ping sends $COUNT numbered datagrams at 50 Hz
(10 s), checks every byte of each echo and counts what came back. Any UDP
program can be pointed at a parley-netem the same way.

EOF

start "$tmp/echo.log" "$ECHO" 127.0.0.1:0
echo_pid=$pid
start "$tmp/netem.log" "$NETEM" --listen 127.0.0.1:0 --to "127.0.0.1:$port" \
    --loss $LOSS --delay $DELAY --jitter $JITTER --dup $DUP \
    --reorder $REORDER --reorder-ms $REORDER_MS
netem_pid=$pid
netem_port=$port
sed 's/^/  /' "$tmp/netem.log"

printf '  pinging 127.0.0.1:%s ' "$netem_port"
timeout 30 "$PING" --count $COUNT --interval-ms $INTERVAL --wait-ms 500 \
    "127.0.0.1:$netem_port" >"$tmp/ping.out" 2>"$tmp/ping.err" &
ping_pid=$!
pids+=("$ping_pid")
while kill -0 "$ping_pid" 2>/dev/null; do
    printf '.'
    sleep 1
done
wait "$ping_pid"
ping_status=$?
echo
stop "$netem_pid"
stop "$echo_pid"

out=$(cat "$tmp/ping.out")
[ -n "$out" ] || { cat "$tmp/ping.err" >&2; die "the ping printed nothing"; }
sent=$(field "$out" sent)
received=$(field "$out" received)
lost=$(field "$out" lost)
dups=$(field "$out" duplicates)
reord=$(field "$out" reordered)
corrupt=$(field "$out" corrupt)
# A round trip crosses the link twice: it survives with (1-loss)^2.
want_loss=$(awk -v l=$LOSS \
    'BEGIN { printf "%.1f%%", 100 * (1 - (1 - l / 100) ^ 2) }')

row() { printf '  %-12s %-16s %s\n' "$1" "$2" "${3:-}" | sed 's/ *$//'; }
echo
printf '  %-29s %s\n' "what the ping saw" "what the link was set to do"
row sent "$sent"
row lost "$lost ($(pct "$lost" "$sent"))" \
    "~$want_loss of round trips (${LOSS}% each way)"
row duplicates "$dups ($(pct "$dups" "$sent"))" \
    "~$((2 * DUP))% (${DUP}% each way)"
row reordered "$reord ($(pct "$reord" "$sent"))" \
    "~$((2 * REORDER))% (${REORDER}% each way, held ${REORDER_MS} ms)"
row corrupt "$corrupt" "0: the link never alters bytes"
row "rtt ms" "p50 $(field "$out" p50)" \
    "~$((2 * DELAY)) (${DELAY} ms each way, +-${JITTER} ms jitter)"
row "" "min $(field "$out" min)"
row "" "p99 $(field "$out" p99)"
row "" "max $(field "$out" max)"
echo
echo "  parley-netem's own count (up: ping -> echo, down: echo -> ping):"
grep 'parley-netem: up:' "$tmp/netem.log" |
    sed -e 's/^parley-netem: /    /' -e 's/ down:/\n    down:/'

if [ "$ping_status" != 0 ] || [ -z "$received" ] || [ "$received" = 0 ] ||
    [ "$corrupt" != 0 ]; then
    die "the ping failed (exit $ping_status): $out"
fi
grep -q 'parley-netem: up:' "$tmp/netem.log" ||
    die "parley-netem printed no summary"
echo
echo "demo: ok"
