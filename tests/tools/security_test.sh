#!/usr/bin/env bash
# parley-relay and parley-cat security end to end over loopback: the
# pre-shared key (--key-file: same key chats; wrong, missing, unreadable and
# malformed keys fail clearly), --gen-keys (files, mode 0600, no
# overwrite), --identity with --pin (right key connects, wrong key and an
# unkeyed server fail), --no-encrypt mismatches; then the adversarial test:
# a flood of hostile datagrams (tests/tools/security_flood.py: garbage,
# truncated, tampered and replayed copies of captured packets, forged DATA,
# 10,000 CONNECTs from 64 ports) at a keyed relay while three clients chat.
# The clients must lose nothing, the relay's RSS must stay flat and its CPU
# must return to idle, and a new client must still get in afterwards.
# Usage: bash security_test.sh BUILD_DIR SOURCE_DIR
set -u
build=${1:?usage: security_test.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: security_test.sh BUILD_DIR SOURCE_DIR}
RELAY=$build/parley-relay
CAT=$build/parley-cat
FLOOD=$src/tests/tools/security_flood.py
PY=/usr/bin/python3
. "$(dirname "$0")/lib.sh"

# The flood and its limits. Under ASan the flood stays the same (the
# flooder, not the relay, sets the pace: ~8 s in all), but ASan's allocator
# and quarantine may grow on their own, so RSS gets more room.
flood_n=100000
flood_connects=10000
rss_limit_kib=4096
msgs=150
if grep -q 'PARLEY_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    rss_limit_kib=8192
fi

fail_detail() { show_logs "$tmp"/*.log "$tmp"/*.err; }

need_exe "$RELAY" "$CAT" "$PY"

# relay LOG ARGS...: a relay on 127.0.0.1 in the background; waits up to
# 5 s for its "listening on" line; sets $relay_pid and $port.
relay() {
    local log=$tmp/$1
    shift
    "$RELAY" --bind 127.0.0.1 --port 0 "$@" </dev/null 2>"$log" &
    relay_pid=$!
    pids+=("$relay_pid")
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")
        [ -n "$port" ] && return 0
        kill -0 "$relay_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "relay did not start: $*"
    cat "$log"
    return 1
}

# cat_run NAME PORT ARGS...: one parley-cat sending one event to all and
# waiting 0.3 s; at most 15 s. Output NAME.out/.err; sets $status.
cat_run() {
    local name=$1 p=$2
    shift 2
    echo '{"event": "hello", "args": ["'"$name"'"], "to": "all"}' |
        timeout 15 "$CAT" --name "$name" --wait 0.3 "$@" "127.0.0.1:$p" \
            >"$tmp/$name.out" 2>"$tmp/$name.err"
    status=$?
}

# refused NAME WHY: NAME exited 1 without connecting, naming WHY.
refused() {
    [ "$status" -eq 1 ] &&
        ! grep -q '"connected"' "$tmp/$1.out" &&
        grep -q "parley-cat: connection refused: $2" "$tmp/$1.err"
}

# ---- (a) keys -------------------------------------------------------------

head -c 32 /dev/urandom >"$tmp/psk.raw"
od -An -tx1 -v "$tmp/psk.raw" | tr -d ' \n' >"$tmp/psk.hex"
echo >>"$tmp/psk.hex"
head -c 32 /dev/urandom >"$tmp/other.key"

relay relay.log --key-file "$tmp/psk.raw" || { echo "0 passed, 1 failed"; exit 1; }
keyed_port=$port
keyed_pid=$relay_pid
check "a keyed relay says so" \
    grep -q 'clients need the pre-shared key' "$tmp/relay.log"

# Two clients with the same key (one as raw bytes, one as hex) meet.
"$CAT" --name alice --key-file "$tmp/psk.raw" --events hello --count 1 \
    "127.0.0.1:$keyed_port" </dev/null >"$tmp/alice.out" 2>"$tmp/alice.err" &
alice=$!
pids+=("$alice")
for _ in $(seq 100); do
    grep -q '"connected"' "$tmp/alice.out" && break
    sleep 0.05
done
cat_run bob "$keyed_port" --key-file "$tmp/psk.hex" --events hello
for _ in $(seq 200); do
    kill -0 "$alice" 2>/dev/null || break
    sleep 0.05
done
kill -9 "$alice" 2>/dev/null
wait "$alice"
alice_status=$?
check "same key (raw and hex files): both connect" \
    [ "$status" -eq 0 -a "$alice_status" -eq 0 ]
check "same key: alice gets bob's event through the relay" \
    grep -q '"event": "hello".*"from": "bob".*"args": \["bob"\]' \
    "$tmp/alice.out"
check "same key: bob gets his own event back" \
    grep -q '"from": "bob".*"args": \["bob"\]' "$tmp/bob.out"

cat_run eve "$keyed_port" --key-file "$tmp/other.key"
check "wrong key: exit 1, 'wrong or missing pre-shared key'" \
    refused eve 'wrong or missing pre-shared key'
cat_run mallory "$keyed_port"
check "no key: exit 1, 'wrong or missing pre-shared key'" \
    refused mallory 'wrong or missing pre-shared key'
check "the relay never saw eve or mallory join" \
    eval '! grep -q "\(eve\|mallory\) joined" "$tmp/relay.log"'
cat_run plain "$keyed_port" --no-encrypt
check "--no-encrypt client at an encrypting relay: exit 1, encryption" \
    refused plain 'encryption mismatch'

# Unusable key files: exit 2 with a clear message, on both tools.
echo "not a key" >"$tmp/short.key"
head -c 33 /dev/urandom >"$tmp/long.key"
for f in missing.key short.key long.key; do
    timeout 10 "$CAT" --key-file "$tmp/$f" "127.0.0.1:$keyed_port" \
        </dev/null >/dev/null 2>"$tmp/kf.err"
    s1=$?
    timeout 10 "$RELAY" --port 0 --key-file "$tmp/$f" </dev/null \
        2>"$tmp/kfr.err"
    s2=$?
    check "--key-file $f: both tools exit 2 naming the file" eval '
        [ "$s1" -eq 2 ] && [ "$s2" -eq 2 ] &&
        grep -q "parley-cat: --key-file: cannot use .*$f" "$tmp/kf.err" &&
        grep -q "parley-relay: --key-file: cannot use .*$f" "$tmp/kfr.err"'
done
timeout 5 "$RELAY" --no-encrypt --key-file "$tmp/psk.raw" </dev/null \
    2>/dev/null
check "--no-encrypt with --key-file: exit 2" [ $? -eq 2 ]

# --gen-keys: files, modes, no overwrite.
mkdir "$tmp/id" "$tmp/id2"
"$RELAY" --gen-keys "$tmp/id" >"$tmp/pub.txt" 2>"$tmp/gen.err"
s=$?
pub=$(cat "$tmp/pub.txt")
check "--gen-keys: exit 0, 64 hex digits on stdout, the same in parley.pub" \
    eval '[ "$s" -eq 0 ] && [[ $pub =~ ^[0-9a-f]{64}$ ]] &&
          [ "$(tr -d "\n" <"$tmp/id/parley.pub")" = "$pub" ]'
check "--gen-keys: parley.key is mode 0600" \
    [ "$(stat -c %a "$tmp/id/parley.key")" = 600 ]
cp "$tmp/id/parley.key" "$tmp/key.before"
"$RELAY" --gen-keys "$tmp/id" >"$tmp/pub2.txt" 2>"$tmp/gen2.err"
s=$?
check "--gen-keys again: refused (exit 1, 'exists'), key unchanged" \
    eval '[ "$s" -eq 1 ] && [ ! -s "$tmp/pub2.txt" ] &&
          grep -q "exists; not overwriting" "$tmp/gen2.err" &&
          cmp -s "$tmp/id/parley.key" "$tmp/key.before"'
"$RELAY" --gen-keys "$tmp/nonexistent" >/dev/null 2>&1
check "--gen-keys into a missing directory fails" [ $? -ne 0 ]
"$RELAY" --gen-keys "$tmp/id2" >"$tmp/otherpub.txt" 2>/dev/null
otherpub=$(cat "$tmp/otherpub.txt")

# --identity and --pin.
relay id.log --identity "$tmp/id" || exit 1
id_port=$port
check "--identity logs the public key" grep -q "identity $pub" "$tmp/id.log"
cat_run pinned "$id_port" --pin "$pub"
check "--pin with the relay's key: connects and chats" \
    eval '[ "$status" -eq 0 ] && grep -q "\"from\": \"pinned\"" \
          "$tmp/pinned.out"'
cat_run wrongpin "$id_port" --pin "$otherpub"
check "--pin with another key: exit 1, 'identity key is not'" \
    refused wrongpin "the server's identity key is not the pinned one"
cat_run unkeyed "$keyed_port" --key-file "$tmp/psk.raw" --pin "$pub"
check "--pin at a relay without an identity: exit 1, 'no identity key'" \
    refused unkeyed 'the server has no identity key'
timeout 5 "$CAT" --pin 1234 "127.0.0.1:$id_port" </dev/null >/dev/null \
    2>"$tmp/badpin.err"
s=$?
check "--pin that is not 64 hex digits: exit 2" \
    eval '[ "$s" -eq 2 ] && grep -q "not 64 hex digits" "$tmp/badpin.err"'

# --no-encrypt on both ends works; one end only fails clearly.
relay plain.log --no-encrypt || exit 1
plain_port=$port
cat_run lan "$plain_port" --no-encrypt
check "--no-encrypt on both ends: connects and chats" \
    eval '[ "$status" -eq 0 ] && grep -q "\"from\": \"lan\"" "$tmp/lan.out"'
cat_run enc "$plain_port"
check "encrypting client at a --no-encrypt relay: exit 1, encryption" \
    refused enc 'encryption mismatch'
kill -9 "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null

# ---- (b) the flood --------------------------------------------------------

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

relay frelay.log --key-file "$tmp/psk.raw" --quiet || exit 1
fport=$port
fpid=$relay_pid
"$PY" "$FLOOD" "$fport" "$tmp/proxy.port" "$tmp/start" "$flood_n" \
    "$flood_connects" >"$tmp/flood.log" 2>&1 &
flooder=$!
pids+=("$flooder")
for _ in $(seq 100); do
    [ -s "$tmp/proxy.port" ] && break
    sleep 0.05
done
pport=$(cat "$tmp/proxy.port" 2>/dev/null)

# Each client waits for the start file, then sends $msgs numbered events
# to all over ~2.5 s while the flood runs; each must receive all 3*$msgs.
total=$((3 * msgs))
for c in 0 1 2; do
    target=127.0.0.1:$fport
    [ "$c" -eq 2 ] && target=127.0.0.1:$pport # through the capturing proxy
    "$PY" -c '
import os, sys, time
c, n, start = sys.argv[1], int(sys.argv[2]), sys.argv[3]
while not os.path.exists(start):
    time.sleep(0.02)
for k in range(n):
    print("{\"event\": \"seq\", \"args\": [%s, %d], \"to\": \"all\"}" % (c, k),
          flush=True)
    time.sleep(2.5 / n)
' "$c" "$msgs" "$tmp/start" |
        timeout 25 "$CAT" --name "c$c" --key-file "$tmp/psk.raw" \
            --events seq --count "$total" "$target" \
            >"$tmp/c$c.out" 2>"$tmp/c$c.err" &
    pids+=($!)
    eval "cat$c=\$!"
done
up=0
for _ in $(seq 200); do
    up=$(cat "$tmp"/c?.out 2>/dev/null | grep -c '"connected"')
    [ "$up" -eq 3 ] && break
    sleep 0.05
done
check "flood: three keyed clients connect (one through the proxy)" \
    [ "$up" -eq 3 ]
sleep 0.5 # a few keepalives through the proxy to capture
rss_before=$(rss_kib "$fpid")
cpu_start=$(cpu_ticks "$fpid")
touch "$tmp/start"
for _ in $(seq 600); do
    grep -q '^flood:' "$tmp/flood.log" && break
    sleep 0.05
done
cpu_flood=$(($(cpu_ticks "$fpid") - cpu_start))
check "flood: the flooder finished" grep -q '^flood:' "$tmp/flood.log"
sed 's/^/     /' "$tmp/flood.log"
echo "     relay CPU during the flood: $((cpu_flood * 1000 / $(getconf CLK_TCK))) ms"
# Not a vacuous flood: it reached the relay, replays of real packets too.
check "flood: the relay worked on it (>= 20 ms of CPU)" \
    [ $((cpu_flood * 1000 / $(getconf CLK_TCK))) -ge 20 ]
check "flood: it replayed the proxied client's real packets" \
    grep -q ' [1-9][0-9]* replays' "$tmp/flood.log"

status_all=0
for c in 0 1 2; do
    eval "p=\$cat$c"
    wait "$p" || status_all=1
done
check "flood: the three clients finished cleanly (exit 0)" \
    [ "$status_all" -eq 0 ]
for c in 0 1 2; do
    # Every sender's numbers, in the order received, must be 0..msgs-1.
    check "flood: c$c received all $total events, each sender's in order" \
        "$PY" -c '
import json, sys
seen = {0: [], 1: [], 2: []}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "event" and o.get("event") == "seq":
        seen[o["args"][0]].append(o["args"][1])
n = int(sys.argv[2])
sys.exit(0 if all(v == list(range(n)) for v in seen.values()) else 1)
' "$tmp/c$c.out" "$msgs"
done
check "flood: the relay is still running" kill -0 "$fpid"

sleep 0.5
rss_after=$(rss_kib "$fpid")
t0=$(cpu_ticks "$fpid")
sleep 1
t1=$(cpu_ticks "$fpid")
hz=$(getconf CLK_TCK)
cpu_pct=$(((t1 - t0) * 100 / hz))
echo "     relay RSS ${rss_before} KiB before, ${rss_after} KiB after" \
    "(limit +${rss_limit_kib} KiB); CPU ${cpu_pct}% of a core over 1 s after"
check "flood: relay RSS grew by at most $rss_limit_kib KiB" \
    [ $((rss_after - rss_before)) -le "$rss_limit_kib" ]
check "flood: relay CPU back to idle (< 5% of a core over 1 s)" \
    [ "$cpu_pct" -lt 5 ]
cat_run late "$fport" --key-file "$tmp/psk.raw"
check "flood: a new keyed client still gets in afterwards" \
    eval '[ "$status" -eq 0 ] && grep -q "\"from\": \"late\"" "$tmp/late.out"'
cat_run latebad "$fport"
check "flood: a keyless client is still refused afterwards" \
    refused latebad 'wrong or missing pre-shared key'

# A clean stop (under ASan this includes the leak check).
kill -TERM "$fpid" "$keyed_pid" 2>/dev/null
stopped=0
for _ in $(seq 100); do
    kill -0 "$fpid" 2>/dev/null || kill -0 "$keyed_pid" 2>/dev/null ||
        { stopped=1; break; }
    sleep 0.05
done
check "the relays stop cleanly on SIGTERM (exit 0)" \
    eval '[ "$stopped" -eq 1 ] && wait "$fpid" && wait "$keyed_pid"'
summary
