#!/usr/bin/env bash
# parley-relay and parley-cat end to end over loopback: three clients and
# send-to-all (every client, the sender included, gets it with the
# sender's name), send-to-server, bad stdin lines, --events, a kick, the
# relay shutting down, 2,000 ordered reliable events through parley-netem
# with 20% loss, a UDP and a TCP client in one room (--tcp-port, --tcp),
# connect failures and bad arguments.
# Usage: bash relay_test.sh BUILD_DIR SOURCE_DIR
set -u
build=${1:?usage: relay_test.sh BUILD_DIR SOURCE_DIR}
RELAY=$build/parley-relay
CAT=$build/parley-cat
NETEM=$build/parley-netem
. "$(dirname "$0")/lib.sh"

fail_detail() { show_logs "$tmp"/*.log "$tmp"/*.err; }

need_exe "$RELAY" "$CAT" "$NETEM"

start() { start_listening "$@"; }

# wait_line FILE PATTERN [SECONDS]: until a line of FILE matches.
wait_line() {
    local n=$((${3:-5} * 20))
    for _ in $(seq "$n"); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# bg_cat NAME ARGS...: a parley-cat in the background with no input (it
# stays for its --wait); stdout NAME.out, stderr NAME.err; sets $catpid.
bg_cat() {
    local name=$1
    shift
    "$CAT" --name "$name" "$@" </dev/null >"$tmp/$name.out" \
        2>"$tmp/$name.err" &
    catpid=$!
    pids+=("$catpid")
}

# relay_up: a relay on 127.0.0.1 whose stdin is a fifo the test writes
# commands to on fd 3; sets $relay_pid and $port.
relay_up() {
    rm -f "$tmp/cmd"
    mkfifo "$tmp/cmd"
    : >"$tmp/relay.log"
    "$RELAY" --bind 127.0.0.1 --port 0 --stats 1 "$@" <"$tmp/cmd" \
        2>"$tmp/relay.log" &
    relay_pid=$!
    pids+=("$relay_pid")
    exec 3>"$tmp/cmd" # the relay's open of the fifo completes
    wait_line "$tmp/relay.log" 'listening on' || return 1
    port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$tmp/relay.log")
}

event_lines() { grep -c '"type": "event"' "$1" 2>/dev/null || true; }

# ---- 1. send to all: all three get it, with the sender's name ----
test_send_all() {
    relay_up || { bad "send_all: relay start"; return; }
    bg_cat bob --count 2 --wait 10 "127.0.0.1:$port"
    local bobpid=$catpid
    bg_cat carol --count 2 --wait 10 "127.0.0.1:$port"
    local carolpid=$catpid
    wait_line "$tmp/relay.log" 'carol joined' && \
        wait_line "$tmp/relay.log" 'bob joined' ||
        { bad "send_all: clients did not join"; return; }
    check "send_all: --stats prints a line per client" \
        wait_line "$tmp/relay.log" 'stats: bob addr=127.0.0.1:[0-9]* rtt_ms=' 3
    printf '%s\n' \
        '{"event": "chat", "args": ["hello", 42, {"$bytes": "AAEC/w=="}], "kwargs": {"big": 9223372036854775807, "u": {"$uint": "18446744073709551615"}, "neg": -9223372036854775808, "f": 0.25}, "to": "all"}' \
        'this is not json' \
        '{"event": "private", "args": [1]}' \
        '{"event": "pose", "args": [1.5], "to": "all", "reliable": false}' |
        timeout 20 "$CAT" --name alice --count 2 --wait 10 "127.0.0.1:$port" \
            >"$tmp/alice.out" 2>"$tmp/alice.err"
    local st=$?
    for p in "$bobpid" "$carolpid"; do
        for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    done
    check "send_all: alice exits 0" [ "$st" = 0 ]
    local n
    for n in alice bob carol; do
        local first
        first=$(grep '"type": "event"' "$tmp/$n.out" | head -n 1)
        check "send_all: $n got chat from alice, all values intact" \
            [ "$first" = '{"type": "event", "event": "chat", "id": "0xf2a38d910b5b348b", "from": "alice", "args": ["hello", 42, {"$bytes": "AAEC/w=="}], "kwargs": {"big": 9223372036854775807, "u": {"$uint": "18446744073709551615"}, "neg": -9223372036854775808, "f": 0.25}}' ]
        check "send_all: $n got the unreliable pose too, named" \
            grep -q '"event": "pose", "id": "0x8c2fd80da8957064", "from": "alice", "args": \[1.5\]' "$tmp/$n.out"
        check "send_all: $n printed connected first" \
            [ "$(head -n 1 "$tmp/$n.out")" = '{"type": "connected"}' ]
    done
    check "send_all: the event to the server reached no client" \
        [ -z "$(grep -l private "$tmp"/alice.out "$tmp"/bob.out "$tmp"/carol.out)" ]
    check "send_all: the bad line is reported with its number" \
        grep -q '^parley-cat: line 2: invalid JSON' "$tmp/alice.err"
    check "send_all: the relay logged the joins" \
        [ "$(grep -c 'joined from 127.0.0.1:' "$tmp/relay.log")" = 3 ]
    check "send_all: the relay logged alice leaving" \
        wait_line "$tmp/relay.log" 'alice left (client left)'
    stop "$relay_pid"
    exec 3>&-
    check "send_all: relay exits 0 on SIGTERM" [ "$status" = 0 ]
}

# ---- 2. --events filters and names; send to the server ----
test_events_filter() {
    relay_up || { bad "filter: relay start"; return; }
    bg_cat watcher --events pose --count 1 --wait 10 "127.0.0.1:$port"
    local w=$catpid
    wait_line "$tmp/relay.log" 'watcher joined' || { bad "filter: join"; return; }
    printf '%s\n' '{"event": "chat", "args": [1], "to": "all"}' \
        '{"event": "pose", "args": [2], "to": "all"}' |
        timeout 20 "$CAT" --name sender "127.0.0.1:$port" >/dev/null \
            2>"$tmp/sender.err"
    for _ in $(seq 200); do kill -0 "$w" 2>/dev/null || break; sleep 0.05; done
    check "filter: only the pose was printed" \
        [ "$(event_lines "$tmp/watcher.out")" = 1 -a \
          -n "$(grep '"event": "pose".*"args": \[2\]' "$tmp/watcher.out")" ]
    stop "$relay_pid"
    exec 3>&-
}

# ---- 3. kick: the client hears why and exits 1 ----
test_kick() {
    relay_up || { bad "kick: relay start"; return; }
    bg_cat victim --wait 30 "127.0.0.1:$port"
    local v=$catpid
    bg_cat bystander --wait 30 "127.0.0.1:$port"
    wait_line "$tmp/relay.log" 'victim joined' && \
        wait_line "$tmp/relay.log" 'bystander joined' ||
        { bad "kick: join"; return; }
    echo "kick victim too noisy today" >&3
    wait_line "$tmp/victim.out" '"type": "disconnected"' 5
    local vst=124
    for _ in $(seq 100); do
        kill -0 "$v" 2>/dev/null || { wait "$v"; vst=$?; break; }
        sleep 0.05
    done
    check "kick: the client prints the reason" \
        grep -qx '{"type": "disconnected", "reason": "kicked: too noisy today"}' \
        "$tmp/victim.out"
    check "kick: the client exits 1 with a message" \
        [ "$vst" = 1 -a -n "$(grep 'disconnected: kicked' "$tmp/victim.err")" ]
    check "kick: the relay logs it" \
        wait_line "$tmp/relay.log" 'victim left (kicked: too noisy today)'
    check "kick: the other client stays" \
        [ -z "$(grep disconnected "$tmp/bystander.out")" ]
    echo "kick nobody" >&3
    check "kick: an unknown name is reported" \
        wait_line "$tmp/relay.log" "no client named 'nobody'"
    stop "$relay_pid"
    exec 3>&-
}

# ---- 4. the relay stops: every client is told ----
test_shutdown() {
    relay_up || { bad "shutdown: relay start"; return; }
    local cps=() n
    for n in c1 c2 c3; do
        bg_cat "$n" --wait 30 "127.0.0.1:$port"
        cps+=("$catpid")
    done
    for n in c1 c2 c3; do
        wait_line "$tmp/relay.log" "$n joined" || { bad "shutdown: join"; return; }
    done
    stop "$relay_pid"
    exec 3>&-
    check "shutdown: relay exits 0" [ "$status" = 0 ]
    check "shutdown: relay said it told 3 clients" \
        grep -q 'stopping: telling 3 clients' "$tmp/relay.log"
    local i=0
    for n in c1 c2 c3; do
        local st=124 p=${cps[$i]}
        i=$((i + 1))
        for _ in $(seq 100); do
            kill -0 "$p" 2>/dev/null || { wait "$p"; st=$?; break; }
            sleep 0.05
        done
        check "shutdown: $n told 'server stopped', exit 1" \
            [ "$st" = 1 -a "$(tail -n 1 "$tmp/$n.out")" = \
              '{"type": "disconnected", "reason": "server stopped"}' ]
    done
}

# ---- 5. 2,000 ordered reliable events through 20% loss ----
test_lossy() {
    local N=2000
    relay_up || { bad "lossy: relay start"; return; }
    local relay_port=$port
    start "$tmp/netem.log" "$NETEM" --listen 127.0.0.1:0 \
        --to "127.0.0.1:$relay_port" --loss 20 --delay 5 --seed 11 ||
        { bad "lossy: netem start"; return; }
    local netem_pid=$pid netem_port=$port
    bg_cat receiver --count $N --wait 60 "127.0.0.1:$netem_port"
    local r=$catpid
    wait_line "$tmp/relay.log" 'receiver joined' 10 ||
        { bad "lossy: receiver join"; return; }
    local t0=$SECONDS
    # 200 bytes of padding each, so the events fill ~400 datagrams.
    local pad
    pad=$(printf '%0200d' 0)
    seq 0 $((N - 1)) | awk -v pad="$pad" '{ printf "{\"event\": \"seq\", \"args\": [%d], \"kwargs\": {\"pad\": \"%s\"}, \"to\": \"all\"}\n", $1, pad }' |
        timeout 120 "$CAT" --name sender "127.0.0.1:$netem_port" \
            >"$tmp/sender.out" 2>"$tmp/sender.err"
    local sst=$?
    local rst=124
    for _ in $(seq 1200); do
        kill -0 "$r" 2>/dev/null || { wait "$r"; rst=$?; break; }
        sleep 0.05
    done
    local took=$((SECONDS - t0))
    stop "$netem_pid"
    echo "  $N events through 20% loss each way in ${took}s"
    grep 'parley-netem: up:' "$tmp/netem.log" | sed 's/^/  /'
    check "lossy: sender exits 0 after all were acknowledged" [ "$sst" = 0 ]
    check "lossy: receiver exits 0" [ "$rst" = 0 ]
    check "lossy: all $N arrived exactly once, in order, from sender" \
        awk -v n=$N -v pad="$pad" '/"type": "event"/ {
                if ($0 !~ /"from": "sender"/) bad = 1
                if (!index($0, "\"kwargs\": {\"pad\": \"" pad "\"}")) bad = 1
                match($0, /"args": \[[0-9]+\]/)
                v = substr($0, RSTART + 9, RLENGTH - 10) + 0
                if (v != seen) bad = 1
                seen++
            } END { exit !(seen == n && !bad) }' "$tmp/receiver.out"
    check "lossy: the link really dropped datagrams" \
        awk '/parley-netem: up:/ { if (match($0, /dropped=[1-9]/)) f = 1 }
             END { exit !f }' "$tmp/netem.log"
    stop "$relay_pid"
    exec 3>&-
}

# ---- 6. one room over UDP and TCP: --tcp-port and parley-cat --tcp ----
test_mixed() {
    relay_up --tcp-port 0 || { bad "mixed: relay start"; return; }
    wait_line "$tmp/relay.log" 'listening on .* (tcp)$' ||
        { bad "mixed: no tcp listening line"; return; }
    local tport
    tport=$(sed -n 's/^parley-relay: listening on 127\.0\.0\.1:\([0-9][0-9]*\) (tcp)$/\1/p' \
        "$tmp/relay.log")
    check "mixed: the UDP listening line is as before" \
        grep -qx "parley-relay: listening on 127.0.0.1:$port" "$tmp/relay.log"
    check "mixed: a second line gives the TCP port" [ -n "$tport" ]
    check "mixed: the relay says TCP is not encrypted" \
        grep -qx "parley-relay: TCP clients are not encrypted" "$tmp/relay.log"
    rm -f "$tmp/u.in" "$tmp/t.in"
    mkfifo "$tmp/u.in" "$tmp/t.in"
    "$CAT" --name udpy --count 2 --wait 10 "127.0.0.1:$port" <"$tmp/u.in" \
        >"$tmp/udpy.out" 2>"$tmp/udpy.err" &
    local up=$!
    pids+=("$up")
    "$CAT" --tcp --name tcpy --count 2 --wait 10 "127.0.0.1:$tport" \
        <"$tmp/t.in" >"$tmp/tcpy.out" 2>"$tmp/tcpy.err" &
    local tp=$!
    pids+=("$tp")
    exec 4>"$tmp/u.in" 5>"$tmp/t.in"
    wait_line "$tmp/relay.log" 'udpy joined' && \
        wait_line "$tmp/relay.log" 'tcpy joined' ||
        { bad "mixed: clients did not join"; exec 4>&- 5>&-; return; }
    echo "list" >&3
    check "mixed: list shows the TCP client" \
        wait_line "$tmp/relay.log" 'stats: tcpy addr=127.0.0.1:[0-9]* '
    echo '{"event": "chat", "args": ["over udp", 1], "to": "all"}' >&4
    echo '{"event": "chat", "args": ["over tcp", 2], "to": "all"}' >&5
    exec 4>&- 5>&-
    local n p st
    for n in udpy tcpy; do
        p=$up
        [ "$n" = tcpy ] && p=$tp
        st=124
        for _ in $(seq 200); do
            kill -0 "$p" 2>/dev/null || { wait "$p"; st=$?; break; }
            sleep 0.05
        done
        check "mixed: $n exits 0 after both events" [ "$st" = 0 ]
        check "mixed: $n got udpy's event, named" \
            grep -qF '"from": "udpy", "args": ["over udp", 1]' "$tmp/$n.out"
        check "mixed: $n got tcpy's event, named" \
            grep -qF '"from": "tcpy", "args": ["over tcp", 2]' "$tmp/$n.out"
    done
    check "mixed: parley-cat says it joined over TCP" \
        grep -q "connected to 127.0.0.1:$tport (tcp) as tcpy" "$tmp/tcpy.err"
    check "mixed: the UDP port does not take TCP" \
        expect_exit_quiet 1 "$CAT" --tcp "127.0.0.1:$port"
    stop "$relay_pid"
    exec 3>&-
    check "mixed: relay exits 0" [ "$status" = 0 ]
}

# expect_exit_quiet CODE CMD...: CMD (no input, 20 s at most) exits CODE.
expect_exit_quiet() {
    local code=$1
    shift
    timeout 20 "$@" </dev/null >/dev/null 2>&1
    [ $? = "$code" ]
}

# ---- 7. connect failures and bad arguments ----
expect_exit() { # DESCRIPTION CODE PATTERN CMD...
    local what=$1 code=$2 pattern=$3
    shift 3
    timeout 20 "$@" </dev/null >"$tmp/x.out" 2>"$tmp/x.err"
    local st=$?
    if [ "$st" = "$code" ] && grep -q -- "$pattern" "$tmp/x.err"; then
        ok "$what"
    else
        bad "$what (exit $st)"; cat "$tmp/x.err"
    fi
}

test_errors() {
    # A UDP port nobody answers on: bind one with netem's help? Simpler:
    # a relay started and stopped leaves its port unused.
    start "$tmp/dead.log" "$RELAY" --bind 127.0.0.1 --port 0 </dev/null ||
        { bad "errors: relay start"; return; }
    local dead=$port
    stop "$pid"
    expect_exit "cat: nobody there: exit 1" 1 "cannot connect to 127.0.0.1:$dead" \
        "$CAT" "127.0.0.1:$dead"
    expect_exit "cat: no host: exit 2" 2 "HOST\[:PORT\] is required" "$CAT"
    expect_exit "cat: bad port: exit 2" 2 "bad port" "$CAT" 127.0.0.1:99999
    expect_exit "cat: bad --count: exit 2" 2 "--count" "$CAT" --count x h
    expect_exit "cat: bad --wait: exit 2" 2 "--wait" "$CAT" --wait -1 h
    expect_exit "cat: unknown option: exit 2" 2 "unknown option '--nope'" \
        "$CAT" --nope h
    expect_exit "cat: bad --name: exit 2" 2 "--name" "$CAT" --name "" h
    expect_exit "cat: unresolvable host: exit 1" 1 "cannot connect" \
        "$CAT" nothing.invalid
    expect_exit "relay: bad port: exit 2" 2 "--port" "$RELAY" --port 70000
    expect_exit "relay: bad bind: exit 2" 2 "--bind" "$RELAY" --bind nowhere
    expect_exit "relay: bind with port: exit 2" 2 "has a port" \
        "$RELAY" --bind 127.0.0.1:5
    expect_exit "relay: zero clients: exit 2" 2 "--max-clients" \
        "$RELAY" --max-clients 0
    expect_exit "relay: bad stats: exit 2" 2 "--stats" "$RELAY" --stats 0
    expect_exit "relay: unknown option: exit 2" 2 "unknown option" \
        "$RELAY" --verbose
    expect_exit "relay: bad --tcp-port: exit 2" 2 "--tcp-port" \
        "$RELAY" --tcp-port 65536
    expect_exit "relay: --tcp-port with --key-file: exit 2" 2 \
        "--tcp-port cannot be combined" "$RELAY" --tcp-port 0 --key-file k
    expect_exit "cat: --tcp with --key-file: exit 2" 2 \
        "--tcp cannot be combined" "$CAT" --tcp --key-file k h
    expect_exit "cat: --tcp with --no-encrypt: exit 2" 2 \
        "--tcp cannot be combined" "$CAT" --tcp --no-encrypt h
    expect_exit "cat: --tcp, nobody there: exit 1" 1 \
        "connection refused" "$CAT" --tcp "127.0.0.1:$dead"
    timeout 5 "$RELAY" --help >"$tmp/x.out" 2>&1
    check "relay: --help exits 0" [ $? = 0 -a -n "$(grep 'kick NAME' "$tmp/x.out")" ]
    timeout 5 "$CAT" --help >"$tmp/x.out" 2>&1
    check "cat: --help exits 0" [ $? = 0 -a -n "$(grep -- '--events' "$tmp/x.out")" ]
}

test_send_all
test_events_filter
test_kick
test_shutdown
test_lossy
test_mixed
test_errors

summary
