#!/usr/bin/env bash
# parley-netem end to end over loopback: example_udp_echo behind the proxy,
# example_udp_ping through it. Checks that the proxy's summary agrees with
# what both ends saw (in both directions), that a clean link is clean, that
# delay and rate show in the round-trip times, that idle clients are
# forgotten and the client table is bounded, IPv6, and bad arguments.
# Usage: bash netem_test.sh BUILD_DIR SOURCE_DIR
set -u
build=${1:?usage: netem_test.sh BUILD_DIR SOURCE_DIR}
NETEM=$build/parley-netem
ECHO=$build/example_udp_echo
PING=$build/example_udp_ping
. "$(dirname "$0")/lib.sh"

fail_detail() { show_logs "$tmp/echo.log" "$tmp/netem.log"; }

need_exe "$NETEM" "$ECHO" "$PING"

# start NAME LOGFILE CMD...: start_listening LOGFILE CMD... (NAME labels
# the call site only).
start() {
    shift
    start_listening "$@"
}

# field TEXT NAME: the number after NAME= in TEXT (the first one).
field() { sed -En "s/(^|.*[ :])$2=([0-9.-]+).*/\2/p" <<<"$1" | head -n 1; }
numbers() { # all arguments are non-negative integers
    local v
    for v in "$@"; do
        [[ $v =~ ^[0-9]+$ ]] || return 1
    done
}
netem_line() { grep 'parley-netem: up:' "$1" | tail -n 1; }
up_part() { local l=${1#*up: }; echo "${l%% down:*}"; }
down_part() { echo "${1#*down: }"; }

# proxy FAMILY-HOST ECHO-HOST NETEM-ARGS...: starts an echo and a netem in
# front of it; sets echo_pid, netem_pid, netem_port.
proxy() {
    local lhost=$1 ehost=$2
    shift 2
    start echo "$tmp/echo.log" "$ECHO" "$ehost:0" || return 1
    echo_pid=$pid
    start netem "$tmp/netem.log" "$NETEM" --listen "$lhost:0" \
        --to "$ehost:$port" "$@" || return 1
    netem_pid=$pid
    netem_port=$port
}

# finish: stops netem and echo; sets netem_status, echo_status, nline,
# echo_received.
finish() {
    stop "$netem_pid"
    netem_status=$status
    stop "$echo_pid"
    echo_status=$status
    nline=$(netem_line "$tmp/netem.log")
    echo_received=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' "$tmp/echo.log")
}

# ---- 1. a clean link delivers everything, intact ----
test_clean() {
    proxy 127.0.0.1 127.0.0.1 --seed 1 || { bad "clean: start"; return; }
    out=$(timeout 20 "$PING" --count 100 --interval-ms 1 --size 200 \
        --wait-ms 1000 "127.0.0.1:$netem_port")
    ping_status=$?
    finish
    echo "  $out"; echo "  $nline"
    check "clean: ping exits 0" [ "$ping_status" = 0 ]
    check "clean: all 100 back, none lost, dup, reordered or corrupt" \
        [ "$(field "$out" received)" = 100 -a "$(field "$out" lost)" = 0 \
          -a "$(field "$out" duplicates)" = 0 \
          -a "$(field "$out" reordered)" = 0 -a "$(field "$out" corrupt)" = 0 ]
    check "clean: netem exits 0 on SIGTERM" [ "$netem_status" = 0 ]
    check "clean: summary says 100 forwarded each way, none dropped" \
        [ "$(field "$(up_part "$nline")" forwarded)" = 100 \
          -a "$(field "$(down_part "$nline")" forwarded)" = 100 \
          -a "$(field "$(up_part "$nline")" dropped)" = 0 \
          -a "$(field "$(down_part "$nline")" dropped)" = 0 ]
    check "clean: echo exits 0 and saw 100" \
        [ "$echo_status" = 0 -a "$echo_received" = 100 ]
}

# ---- 2. impairments: the summary matches what both ends saw ----
impaired_run() { # sets out, nline, echo_received
    proxy 127.0.0.1 127.0.0.1 --loss 10 --dup 5 --reorder 5 --delay 5 \
        --seed 7 || return 1
    out=$(timeout 20 "$PING" --count 300 --interval-ms 2 --wait-ms 600 \
        "127.0.0.1:$netem_port")
    finish
}

test_impaired() {
    impaired_run || { bad "impaired: start"; return; }
    echo "  $out"; echo "  $nline"
    local up down sent recv uf ud udup df dd ddup lost
    up=$(up_part "$nline"); down=$(down_part "$nline")
    sent=$(field "$out" sent); recv=$(field "$out" received)
    lost=$(field "$out" lost)
    uf=$(field "$up" forwarded); ud=$(field "$up" dropped)
    udup=$(field "$up" duplicated)
    df=$(field "$down" forwarded); dd=$(field "$down" dropped)
    ddup=$(field "$down" duplicated)
    if ! numbers "$sent" "$recv" "$lost" "$uf" "$ud" "$udup" "$df" "$dd" \
        "$ddup" "$echo_received"; then
        bad "impaired: missing counts (ping: '$out', netem: '$nline')"
        return
    fi
    check "impaired: ping sent 300, nothing corrupt" \
        [ "$sent" = 300 -a "$(field "$out" corrupt)" = 0 ]
    check "impaired: echo received = up forwarded ($echo_received = $uf)" \
        [ "$echo_received" = "$uf" ]
    check "impaired: ping received = down forwarded ($recv = $df)" \
        [ "$recv" = "$df" ]
    check "impaired: up: sent + duplicated = forwarded + dropped" \
        [ $((sent + udup)) = $((uf + ud)) ]
    check "impaired: down: echoed + duplicated = forwarded + dropped" \
        [ $((echo_received + ddup)) = $((df + dd)) ]
    check "impaired: every impairment happened both ways" \
        [ "$ud" -gt 0 -a "$dd" -gt 0 -a "$udup" -gt 0 -a "$ddup" -gt 0 \
          -a "$(field "$up" reordered)" -gt 0 \
          -a "$(field "$down" reordered)" -gt 0 ]
    check "impaired: ping saw losses, duplicates and reordering" \
        [ "$lost" -gt 0 -a "$(field "$out" duplicates)" -gt 0 \
          -a "$(field "$out" reordered)" -gt 0 ]
    check "impaired: lost ($lost) <= all drops ($((ud + dd)))" \
        [ "$lost" -le $((ud + dd)) ]
    # ~19% of round trips lose a leg at 10% each way: allow a wide band.
    check "impaired: loss rate plausible for 10% each way ($lost/300)" \
        [ "$lost" -ge 20 -a "$lost" -le 110 ]
    # The same seed and the same input give the same upstream impairments.
    local first_up=$up
    impaired_run || { bad "impaired: restart"; return; }
    echo "  $nline"
    check "impaired: --seed 7 repeats the upstream decisions" \
        [ "$(up_part "$nline")" = "$first_up" ]
}

# ---- 3. delay and rate show in the round-trip times ----
test_delay() {
    proxy 127.0.0.1 127.0.0.1 --delay 50 || { bad "delay: start"; return; }
    out=$(timeout 20 "$PING" --count 5 --interval-ms 10 --wait-ms 1000 \
        "127.0.0.1:$netem_port")
    finish
    echo "  $out"
    local min max
    min=$(field "$out" min); max=$(field "$out" max)
    check "delay 50: all 5 back" [ "$(field "$out" received)" = 5 ]
    check "delay 50: rtt min $min ms >= 100" \
        awk -v m="$min" 'BEGIN { exit !(m >= 100) }'
    check "delay 50: rtt max $max ms < 400" \
        awk -v m="$max" 'BEGIN { exit !(m < 400) }'
}

test_rate() {
    # 20 x 500 bytes at 50000 B/s: the last one waits ~190 ms for its turn.
    proxy 127.0.0.1 127.0.0.1 --rate 50000 || { bad "rate: start"; return; }
    out=$(timeout 20 "$PING" --count 20 --interval-ms 0 --size 500 \
        --wait-ms 2000 "127.0.0.1:$netem_port")
    finish
    echo "  $out"
    local max
    max=$(field "$out" max)
    check "rate: all 20 back" [ "$(field "$out" received)" = 20 ]
    check "rate: rtt max $max ms >= 150" \
        awk -v m="$max" 'BEGIN { exit !(m >= 150) }'
}

# ---- 4. IPv6, and an IPv4 listener in front of an IPv6 server ----
test_ipv6() {
    local label=$1 lhost=$2 ehost=$3
    proxy "$lhost" "$ehost" --delay 1 || { bad "$label: start"; return; }
    out=$(timeout 20 "$PING" --count 20 --interval-ms 1 --wait-ms 1000 \
        "$lhost:$netem_port")
    finish
    echo "  $out"
    check "$label: all 20 back intact" \
        [ "$(field "$out" received)" = 20 -a "$(field "$out" corrupt)" = 0 ]
    check "$label: summary 20 each way" \
        [ "$(field "$(up_part "$nline")" forwarded)" = 20 \
          -a "$(field "$(down_part "$nline")" forwarded)" = 20 ]
}

# ---- 5. idle clients are forgotten; the client table is bounded ----
test_clients() {
    proxy 127.0.0.1 127.0.0.1 --max-clients 1 --idle-timeout 0.5 -v ||
        { bad "clients: start"; return; }
    local a b c
    a=$(timeout 10 "$PING" --count 1 --wait-ms 1000 "127.0.0.1:$netem_port")
    # A stranger writing to that client's upstream port gets nothing through.
    local upport
    upport=$(sed -n 's/.* added (upstream .*:\([0-9][0-9]*\),.*/\1/p' \
        "$tmp/netem.log")
    timeout 10 "$PING" --count 1 --wait-ms 100 "127.0.0.1:${upport:-1}" \
        >/dev/null
    # A second client while the first is remembered: dropped.
    b=$(timeout 10 "$PING" --count 1 --wait-ms 300 "127.0.0.1:$netem_port")
    sleep 0.8
    # The first is forgotten by now, so a new client fits again.
    c=$(timeout 10 "$PING" --count 1 --wait-ms 1000 "127.0.0.1:$netem_port")
    finish
    printf '  %s\n' "$a" "$b" "$c" "$nline"
    check "clients: first client answered" [ "$(field "$a" received)" = 1 ]
    check "clients: second client refused while the table is full" \
        [ "$(field "$b" received)" = 0 \
          -a "$(field "$(up_part "$nline")" dropped)" = 1 ]
    check "clients: a stranger's datagram to an upstream port is dropped" \
        [ -n "$upport" -a "$(field "$(down_part "$nline")" dropped)" = 1 \
          -a "$(field "$(down_part "$nline")" forwarded)" = 2 ]
    check "clients: the idle client was forgotten" \
        grep -q 'forgotten' "$tmp/netem.log"
    check "clients: a new client fits after that" \
        [ "$(field "$c" received)" = 1 ]
}

# ---- 6. clients at once: each gets its own answers, from its own socket ----
test_concurrent() {
    proxy 127.0.0.1 127.0.0.1 --delay 20 || { bad "concurrent: start"; return; }
    local i p ps=()
    for i in 1 2 3; do
        timeout 20 "$PING" --count 200 --interval-ms 1 --wait-ms 1000 \
            "127.0.0.1:$netem_port" >"$tmp/ping$i.out" &
        ps+=("$!")
    done
    for p in "${ps[@]}"; do
        wait "$p"
    done
    finish
    for i in 1 2 3; do
        out=$(cat "$tmp/ping$i.out")
        check "concurrent: client $i got its 200 back intact" \
            [ "$(field "$out" received)" = 200 \
              -a "$(field "$out" corrupt)" = 0 ]
    done
    check "concurrent: 600 forwarded each way" \
        [ "$(field "$(up_part "$nline")" forwarded)" = 600 \
          -a "$(field "$(down_part "$nline")" forwarded)" = 600 ]
}

# ---- 6b. a path MTU: longer datagrams are dropped and counted ----
test_mtu() {
    proxy 127.0.0.1 127.0.0.1 --seed 1 --mtu 1000 || { bad "mtu: start"; return; }
    out=$(timeout 20 "$PING" --count 30 --interval-ms 1 --size 1200 \
        --wait-ms 500 "127.0.0.1:$netem_port")
    out2=$(timeout 20 "$PING" --count 30 --interval-ms 1 --size 900 \
        --wait-ms 1000 "127.0.0.1:$netem_port")
    finish
    echo "  $out"; echo "  $out2"; echo "  $nline"
    check "mtu: 1200-byte datagrams over a 1000-byte path all lost" \
        [ "$(field "$out" received)" = 0 ]
    check "mtu: 900-byte datagrams all back intact" \
        [ "$(field "$out2" received)" = 30 -a "$(field "$out2" corrupt)" = 0 ]
    check "mtu: summary counts the 30 dropped going up" \
        [ "$(field "$(up_part "$nline")" dropped)" = 30 \
          -a "$(field "$(up_part "$nline")" forwarded)" = 30 ]
}

# ---- 7. bad arguments: one line naming the problem, usage, exit 2 ----
expect_usage_error() { # DESCRIPTION PATTERN ARGS...
    local what=$1 pattern=$2
    shift 2
    timeout 10 "$NETEM" "$@" >"$tmp/out" 2>"$tmp/err"
    local st=$?
    if [ "$st" = 2 ] && grep -q "^parley-netem: .*$pattern" "$tmp/err" &&
        grep -q '^usage: parley-netem' "$tmp/err"; then
        ok "bad args: $what"
    else
        bad "bad args: $what (exit $st)"; cat "$tmp/err"
    fi
}

test_bad_args() {
    local L='--listen 127.0.0.1:0' T='--to 127.0.0.1:9'
    expect_usage_error "no arguments" "required"
    expect_usage_error "missing --to" "--to is required" $L
    expect_usage_error "missing --listen" "--listen is required" $T
    expect_usage_error "unknown option" "unknown option '--lose'" \
        $L $T --lose 5
    expect_usage_error "loss above 100" "--loss: 150 is outside" \
        $L $T --loss 150
    expect_usage_error "negative dup" "--dup: -1 is outside" $L $T --dup -1
    expect_usage_error "non-numeric loss" "--loss: 'abc' is not a number" \
        $L $T --loss abc
    expect_usage_error "trailing junk" "--delay: '5ms'" $L $T --delay 5ms
    expect_usage_error "negative delay" "--delay: '-5'" $L $T --delay -5
    expect_usage_error "missing value" "--seed needs a value" $L $T --seed
    expect_usage_error "address without port" "--to: cannot use" \
        $L --to 127.0.0.1
    expect_usage_error "port out of range" "--listen: cannot use" \
        --listen 127.0.0.1:70000 $T
    expect_usage_error "malformed address" "--to: cannot use" \
        $L --to '[::1:9'
    expect_usage_error "bad burst" "--burst-loss" $L $T --burst-loss 1,2
    expect_usage_error "zero clients" "--max-clients: 0 is outside" \
        $L $T --max-clients 0
    expect_usage_error "tiny mtu" "--mtu: 10 is outside" $L $T --mtu 10
    timeout 10 "$NETEM" --help >"$tmp/out" 2>&1
    check "--help prints the usage and exits 0" \
        [ $? = 0 -a -n "$(grep -- '--burst-loss' "$tmp/out")" ]
    timeout 10 "$PING" --count x 127.0.0.1:9 >/dev/null 2>&1
    check "udp_ping: bad --count exits 2" [ $? = 2 ]
    timeout 10 "$ECHO" >/dev/null 2>&1
    check "udp_echo: no address exits 2" [ $? = 2 ]
}

test_bad_args
test_clean
test_impaired
test_delay
test_rate
test_ipv6 "ipv6" "[::1]" "[::1]"
test_ipv6 "ipv4->ipv6" "127.0.0.1" "[::1]"
test_clients
test_concurrent
test_mtu

summary
