#!/usr/bin/env bash
# `make demo`: parley's main job in ten seconds. A parley-relay and four
# clients, each client on its own bad simulated link (loss, latency,
# jitter), exchange head poses at 20 Hz (unreliable, like a multi-user VR
# scene) and chat lines (reliable), all sent to everyone through the
# relay. A live table shows each client's link; the summary proves every
# reliable event arrived exactly once and in order. Exits non-zero if
# anything was lost. The old link-simulator demo is scripts/netem-demo.sh.
# Usage: scripts/demo.sh BUILD_DIR
set -u
build=${1:-build}
RELAY=$build/parley-relay
DEMO=$build/example_session_demo
CLIENTS=4 SECONDS_=10 LOSS=5 LATENCY=30 JITTER=10

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

for exe in "$RELAY" "$DEMO"; do
    [ -x "$exe" ] || die "$exe is missing: build first (make build)"
done

cat <<INTRO
parley demo: a shared scene over a bad network
----------------------------------------------
parley-relay is the viznet-style server: a client's send-to-all event
reaches every client, the sender included, carrying the sender's name.
$CLIENTS clients join it on 127.0.0.1; each has its own simulated link with
${LOSS}% loss and ${LATENCY} ms +- ${JITTER} ms delay in each direction. Every client sends
its head pose 20 times a second (unreliable-sequenced: a late pose is
useless, a lost one is not resent) and a chat line every ~0.4 s
(reliable-ordered). Columns: round-trip time and loss as the transport
measures them, messages and UDP bytes each way, poses received, their
one-way age, and chat lines received.

INTRO

: >"$tmp/relay.log"
"$RELAY" --bind 127.0.0.1 --port 0 </dev/null 2>"$tmp/relay.log" &
relay_pid=$!
pids+=("$relay_pid")
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$tmp/relay.log")
    [ -n "$port" ] && break
    kill -0 "$relay_pid" 2>/dev/null || break
    sleep 0.05
done
[ -n "$port" ] || { cat "$tmp/relay.log" >&2; die "the relay did not start"; }
sed 's/^/  /' "$tmp/relay.log"
echo

timeout 60 "$DEMO" --clients $CLIENTS --seconds $SECONDS_ --loss $LOSS \
    --latency $LATENCY --jitter $JITTER "127.0.0.1:$port"
status=$?

kill -TERM "$relay_pid" 2>/dev/null
for _ in $(seq 100); do
    kill -0 "$relay_pid" 2>/dev/null || break
    sleep 0.05
done
wait "$relay_pid" 2>/dev/null
relay_status=$?
echo
echo "  the relay's log:"
sed 's/^/  /' "$tmp/relay.log" | grep -v 'listening on'

[ "$relay_status" = 0 ] || die "the relay exited with $relay_status"
[ "$status" = 0 ] || die "some reliable events were lost (exit $status)"
echo
echo "demo: ok"
