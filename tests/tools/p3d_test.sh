#!/usr/bin/env bash
# parley-p3d end to end over loopback: "serve --echo" and "send" with the
# 2-byte, 4-byte and raw framings, JSON lines checked field by field with
# jq (connect, datagram and reset lines; conn numbers; addresses), IPv6,
# an oversize announcement, SIGTERM, and bad arguments.
# Usage: bash p3d_test.sh BUILD_DIR SOURCE_DIR
set -u
build=${1:?usage: p3d_test.sh BUILD_DIR SOURCE_DIR}
P3D=$build/parley-p3d
. "$(dirname "$0")/lib.sh"

fail_detail() { show_logs "$tmp"/*.out "$tmp"/*.err; }

need_exe "$P3D"
command -v jq >/dev/null || { echo "jq is needed"; echo "0 passed, 1 failed"; exit 1; }

# serve NAME ARGS...: starts "parley-p3d serve ARGS" (stdout NAME.out,
# stderr NAME.err), waits up to 5 s for "listening on PORT"; sets $port
# and $pid.
serve() {
    local name=$1
    shift
    : >"$tmp/$name.err"
    "$P3D" serve "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pid=$!
    pids+=("$pid")
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/^parley-p3d: listening on \([0-9][0-9]*\)$/\1/p' \
            "$tmp/$name.err")
        [ -n "$port" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "serve did not start: $*"
    return 1
}

# Waits until FILE has at least N lines (5 s at most).
wait_lines() {
    for _ in $(seq 100); do
        [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

# jq_is FILE LINE FILTER EXPECTED: line LINE (1-based) of FILE, through
# jq -r FILTER, equals EXPECTED.
jq_is() {
    local got
    got=$(sed -n "$2p" "$1" | jq -r "$3" 2>/dev/null)
    [ "$got" = "$4" ] || { echo "  line $2 of $(basename "$1"): $3 = '$got', want '$4'"; return 1; }
}

big=$(head -c 1000 /dev/zero | tr '\0' 'a' | od -An -v -tx1 | tr -d ' \n')

# ---- 1. echo with the default 2-byte header ----
test_echo() {
    serve s1 --port 0 --bind 127.0.0.1 --echo || { bad "echo: start"; return; }
    timeout 20 "$P3D" send "127.0.0.1:$port" 68656c6c6f "" 0102 "$big" \
        >"$tmp/send1.out" 2>"$tmp/send1.err"
    local st=$?
    check "echo: send exits 0" [ "$st" = 0 ]
    check "echo: send printed 4 lines" [ "$(wc -l <"$tmp/send1.out")" = 4 ]
    local f=$tmp/send1.out
    check "echo: replies are datagrams in order, intact" \
        jq_is "$f" 1 '[.type,.len,.hex]|join(" ")' "datagram 5 68656c6c6f"
    check "echo: the empty datagram comes back empty" \
        jq_is "$f" 2 '[.type,.len,.hex]|join(" ")' "datagram 0 "
    check "echo: third" jq_is "$f" 3 '[.len,.hex]|join(" ")' "2 0102"
    check "echo: the 1000-byte one" jq_is "$f" 4 '[.len,.hex]|join(" ")' \
        "1000 $big"
    check "echo: reply lines name conn 1 and the server" \
        jq_is "$f" 1 '[.conn,.from]|join(" ")' "1 127.0.0.1:$port"
    wait_lines "$tmp/s1.out" 6
    local g=$tmp/s1.out
    check "echo: serve printed connect first" \
        jq_is "$g" 1 '[.type,.conn]|join(" ")' "connect 1"
    check "echo: connect names a loopback peer" \
        jq_is "$g" 1 '.from|test("^127\\.0\\.0\\.1:[0-9]+$")' "true"
    check "echo: serve printed the datagrams in order" \
        jq_is "$g" 2 '[.type,.conn,.len,.hex]|join(" ")' \
        "datagram 1 5 68656c6c6f"
    check "echo: serve datagram 2" jq_is "$g" 3 '.len' "0"
    check "echo: serve datagram 4" jq_is "$g" 5 '.hex' "$big"
    check "echo: the client's close is a reset line" \
        jq_is "$g" 6 '[.type,.conn,.reason]|join(" ")' "reset 1 PARLEY_ECLOSED"
    # A second client gets the next number.
    timeout 20 "$P3D" send "127.0.0.1:$port" 00 >"$tmp/send2.out" 2>&1
    wait_lines "$tmp/s1.out" 9
    check "echo: a second client is conn 2" \
        jq_is "$g" 7 '[.type,.conn]|join(" ")' "connect 2"
    check "echo: every serve line is valid JSON" \
        jq -e . "$g" >/dev/null
    stop "$pid"
    check "echo: serve exits 0 on SIGTERM" [ "$status" = 0 ]
}

# ---- 2. 4-byte headers; raw mode shows the wire bytes ----
test_header4_and_raw() {
    serve s2 --port 0 --bind 127.0.0.1 --header 4 --echo ||
        { bad "header 4: start"; return; }
    timeout 20 "$P3D" send "127.0.0.1:$port" --header 4 abcdef \
        >"$tmp/send3.out" 2>&1
    check "header 4: echoed" jq_is "$tmp/send3.out" 1 '.hex' "abcdef"
    # Raw out: we write the 4-byte little-endian header ourselves, and
    # the echo comes back framed, as bytes on the wire.
    timeout 20 "$P3D" send "127.0.0.1:$port" --header raw 03000000616263 \
        >"$tmp/send4.out" 2>&1
    check "raw: the server took 03000000 as the length" \
        grep -q '"len": 3, "hex": "616263"' "$tmp/s2.out"
    check "raw: the reply is 03 00 00 00 then the payload" \
        [ "$(jq -r .hex "$tmp/send4.out" | tr -d '\n')" = 03000000616263 ]
    # An announcement over the server's limit (16 MiB) is a reset.
    timeout 20 "$P3D" send "127.0.0.1:$port" --header raw --wait 300 \
        ffffff7f >"$tmp/send5.out" 2>&1
    wait_lines "$tmp/s2.out" 8
    check "oversize: reset with PARLEY_EMSGSIZE" \
        grep -q '"type": "reset", .*"reason": "PARLEY_EMSGSIZE"' "$tmp/s2.out"
    stop "$pid"
}

# ---- 3. IPv6 ----
test_ipv6() {
    serve s3 --port 0 --bind ::1 --echo || { bad "ipv6: start"; return; }
    timeout 20 "$P3D" send "[::1]:$port" 7a >"$tmp/send6.out" 2>&1
    check "ipv6: echoed from [::1]" \
        jq_is "$tmp/send6.out" 1 '[.from,.hex]|join(" ")' "[::1]:$port 7a"
    stop "$pid"
}

# ---- 4. errors ----
test_errors() {
    local out st
    out=$("$P3D" send 127.0.0.1:1 zz 2>&1); st=$?
    check "errors: bad hex exits 2 and says why" \
        [ "$st" = 2 -a -n "$(grep "'zz' is not hex" <<<"$out")" ]
    out=$("$P3D" serve --header 3 2>&1); st=$?
    check "errors: --header 3 exits 2" [ "$st" = 2 ]
    out=$("$P3D" serve --port 70000 2>&1); st=$?
    check "errors: --port 70000 exits 2" [ "$st" = 2 ]
    out=$("$P3D" frobnicate 2>&1); st=$?
    check "errors: unknown command exits 2" [ "$st" = 2 ]
    out=$("$P3D" 2>&1); st=$?
    check "errors: no command exits 2 with usage" \
        [ "$st" = 2 -a -n "$(grep usage <<<"$out")" ]
    # A port nothing listens on: bind one, stop it, connect there.
    serve s4 --port 0 --bind 127.0.0.1 || { bad "errors: start"; return; }
    local dead=$port
    stop "$pid"
    out=$(timeout 20 "$P3D" send "127.0.0.1:$dead" 00 2>&1); st=$?
    check "errors: refused connect exits 1 with the reason" \
        [ "$st" = 1 -a -n "$(grep 'connection refused' <<<"$out")" ]
    serve s5 --port 0 --bind 127.0.0.1 || { bad "errors: start 2"; return; }
    out=$(timeout 20 "$P3D" serve --port "$port" --bind 127.0.0.1 2>&1); st=$?
    check "errors: a port in use exits 1" \
        [ "$st" = 1 -a -n "$(grep 'cannot listen' <<<"$out")" ]
    stop "$pid"
}

test_echo
test_header4_and_raw
test_ipv6
test_errors
summary
