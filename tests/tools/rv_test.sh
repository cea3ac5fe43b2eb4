#!/usr/bin/env bash
# parley-rv end to end over loopback: `parley-rv serve` with 20 clients
# connected at once, each sending an EVENT, a RETURNEVENT and a 16 MiB
# DATAEVENT (checked byte for byte through SHA-256); the client commands
# (event, returnevent, eval, pyeval, data, pixels, listen) against serve
# and against a scripted fake RV; exit codes for refusal, loss, RETURN
# timeouts and bad arguments.
# Usage: bash rv_test.sh BUILD_DIR SOURCE_DIR
set -u
build=${1:?usage: rv_test.sh BUILD_DIR SOURCE_DIR}
RV=$build/parley-rv
. "$(dirname "$0")/lib.sh"

need_exe "$RV"
PY=$(command -v python3 || true)
JQ=$(command -v jq || true)
if [ -z "$PY" ] || [ -z "$JQ" ]; then
    echo "skip: needs python3 and jq"
    echo "0 passed, 0 failed"
    exit 0
fi

# start_serve LOG ARGS...: parley-rv serve on an ephemeral port; sets
# $serve_pid and $port (waits up to 5 s for "listening on PORT").
start_serve() {
    local log=$1
    shift
    : >"$log.err"
    "$RV" serve --port 0 --bind 127.0.0.1 "$@" >"$log" 2>"$log.err" &
    serve_pid=$!
    pids+=("$serve_pid")
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/^parley-rv: listening on \([0-9][0-9]*\)$/\1/p' \
            "$log.err")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    echo "serve did not start"; cat "$log.err"
    return 1
}

# count FILE JQ-FILTER: how many JSON lines of FILE match the filter.
count() { "$JQ" -c "select($2)" "$1" | wc -l; }

# ---- a scripted fake RV (one connection, then exit) ----
cat >"$tmp/fake_rv.py" <<'EOF'
import socket, sys, time
mode, portfile, logfile = sys.argv[1], sys.argv[2], sys.argv[3]
def frame(word, payload):
    if isinstance(payload, str): payload = payload.encode()
    return word.encode() + b' ' + str(len(payload)).encode() + b' ' + payload
def read_frame(sock, buf):
    while True:
        parts = buf.split(b' ', 2)
        if len(parts) == 3:
            n = int(parts[1])
            if len(parts[2]) >= n:
                return (parts[0], parts[2][:n]), parts[2][n:]
        chunk = sock.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(1)
open(portfile, 'w').write(str(ls.getsockname()[1]))
ls.settimeout(10)
c, _ = ls.accept(); c.settimeout(10)
log = open(logfile, 'w')
buf = b''
f, buf = read_frame(c, buf)
log.write('%s %s\n' % (f[0].decode(), f[1].decode())); log.flush()
if mode == 'refuse':
    c.close(); sys.exit(0)
c.sendall(frame('GREETING', 'fakerv'))
if mode == 'drop':
    time.sleep(0.2); c.close(); sys.exit(0)
if mode == 'talk':
    c.sendall(frame('MESSAGE', 'EVENT hello * there  two') +
              frame('PING', 'p') + frame('MESSAGE', 'RETURNEVENT q * ?'))
want = {b'PONG': False, b'RETURN': False}
deadline = time.time() + 8
while time.time() < deadline:
    f, buf = read_frame(c, buf)
    if f is None: break
    log.write('%s %s\n' % (f[0].decode(), f[1].decode())); log.flush()
    if f[0] == b'PONG': want[b'PONG'] = True
    if f[0] == b'MESSAGE' and f[1].startswith(b'RETURN'): want[b'RETURN'] = True
    if mode == 'talk' and all(want.values()):
        c.sendall(frame('MESSAGE', 'DISCONNECT')); time.sleep(0.2); break
c.close()
EOF

# fake MODE: starts the fake RV; sets $fake_pid and $fake_port.
fake() {
    rm -f "$tmp/fake.port"
    "$PY" "$tmp/fake_rv.py" "$1" "$tmp/fake.port" "$tmp/fake.log" &
    fake_pid=$!
    pids+=("$fake_pid")
    for _ in $(seq 100); do
        [ -s "$tmp/fake.port" ] && break
        sleep 0.05
    done
    fake_port=$(cat "$tmp/fake.port" 2>/dev/null)
}

# ---- 1. serve with 20 contacts at once, 16 MiB each ----
test_twenty() {
    start_serve "$tmp/serve.json" --echo || { bad "20: serve starts"; return; }
    head -c $((16 << 20)) /dev/urandom >"$tmp/big.bin"
    local sha
    sha=$(sha256sum "$tmp/big.bin" | cut -d' ' -f1)
    local cpids=() i
    for i in $(seq 1 20); do
        # listen at the end: every client stays connected until told to go.
        # No timeout(1) wrapper: it would signal the client twice (once
        # itself, once through the process group); stop() and the EXIT
        # trap bound these processes.
        "$RV" --contact "c$i" --timeout 30 "127.0.0.1:$port" \
            event "e$i" "hello $i" returnevent "r$i" "ret $i  x" \
            data "blob$i" application/octet-stream "$tmp/big.bin" \
            listen >"$tmp/c$i.out" 2>"$tmp/c$i.err" &
        cpids+=($!)
        pids+=($!)
    done
    # wait until all 20 DATAEVENTs are in (at most 60 s)
    for _ in $(seq 1200); do
        [ "$(count "$tmp/serve.json" '.type=="dataevent"')" -ge 20 ] && break
        sleep 0.05
    done
    check "20: all 20 connected at the same time" \
        [ "$(count "$tmp/serve.json" '.type=="greeting"')" = 20 -a \
          "$(count "$tmp/serve.json" '.type=="contact-left"')" = 0 ]
    local good=0
    for i in $(seq 1 20); do
        [ "$(count "$tmp/serve.json" ".type==\"event\" and .contact==\"c$i\"
              and .name==\"e$i\" and .target==\"*\"
              and .contents==\"hello $i\"")" = 1 ] &&
        [ "$(count "$tmp/serve.json" ".type==\"returnevent\" and
              .contact==\"c$i\" and .name==\"r$i\" and .seq==0
              and .contents==\"ret $i  x\"")" = 1 ] &&
        [ "$(count "$tmp/serve.json" ".type==\"dataevent\" and
              .contact==\"c$i\" and .name==\"blob$i\" and .target==\"*\"
              and .content_type==\"application/octet-stream\"
              and .bytes==16777216 and .sha256==\"$sha\"")" = 1 ] &&
        good=$((good + 1))
    done
    check "20: every contact's EVENT, RETURNEVENT and 16 MiB DATAEVENT arrived intact ($good/20)" \
        [ "$good" = 20 ]
    local st all0=1 echo_ok=0
    for i in $(seq 1 20); do
        stop "${cpids[$((i - 1))]}"
        st=$status
        [ "$st" = 0 ] || { all0=0; echo "  c$i exit $st"; sed 's/^/  | /' "$tmp/c$i.err"; }
        [ "$(head -n 1 "$tmp/c$i.out")" = "ret $i  x" ] && echo_ok=$((echo_ok + 1))
    done
    check "20: each client printed its RETURN (the echoed contents)" [ "$echo_ok" = 20 ]
    check "20: clients exit 0 after SIGTERM (they sign off)" [ "$all0" = 1 ]
    for _ in $(seq 100); do
        [ "$(count "$tmp/serve.json" '.type=="contact-left"')" -ge 20 ] && break
        sleep 0.05
    done
    check "20: 20 DISCONNECTs and 20 contact-left (reason disconnect)" \
        [ "$(count "$tmp/serve.json" '.type=="disconnect"')" = 20 -a \
          "$(count "$tmp/serve.json" '.type=="contact-left" and .reason=="disconnect"')" = 20 ]
    check "20: no errors" [ "$(count "$tmp/serve.json" '.type=="error"')" = 0 ]
    stop "$serve_pid"
    check "20: serve exits 0 on SIGTERM" [ "$status" = 0 ]
    rm -f "$tmp/big.bin"
}

# ---- 2. client commands against serve ----
test_commands() {
    start_serve "$tmp/s2.json" --reply "OK 1" --contact srv --app viewer ||
        { bad "commands: serve starts"; return; }
    local out st
    out=$(timeout 20 "$RV" "127.0.0.1:$port" eval "1+1;" pyeval "2+2" \
        returnevent custom "c d")
    st=$?
    check "commands: eval, pyeval and returnevent print each RETURN, exit 0" \
        [ "$st" = 0 -a "$out" = "OK 1
OK 1
OK 1" ]
    check "commands: eval is RETURNEVENT remote-eval, pyeval remote-pyeval" \
        [ "$(count "$tmp/s2.json" '.type=="returnevent" and .name=="remote-eval" and .contents=="1+1;"')" = 1 -a \
          "$(count "$tmp/s2.json" '.type=="returnevent" and .name=="remote-pyeval" and .contents=="2+2"')" = 1 ]
    # pixels: a 5x3 PPM in 2x2 tiles
    "$PY" - "$tmp/img.ppm" <<'EOF'
import sys
w, h = 5, 3
px = bytes((x * 40 + y * 7 + c) & 0xff for y in range(h) for x in range(w) for c in range(3))
open(sys.argv[1], 'wb').write(b'P6\n# test\n%d %d\n255\n' % (w, h) + px)
EOF
    out=$(timeout 20 "$RV" "127.0.0.1:$port" pixels img1 "$tmp/img.ppm" --tiles 2x2)
    st=$?
    local want
    want=$("$PY" - "$tmp/img.ppm" <<'EOF'
import sys, hashlib
d = open(sys.argv[1], 'rb').read()
px = d[-45:]
w, h = 5, 3
rows = [px[y * w * 3:(y + 1) * w * 3] for y in range(h)][::-1]  # bottom-up
rgba = b''.join(bytes(r[x * 3:x * 3 + 3]) + b'\xff' for r in rows for x in range(w))
# the tile at x=0,y=0, 2 wide, 1 high (rows bottom-up)
t = b''.join(rgba[(y * w + 0) * 4:(y * w + 2) * 4] for y in range(1))
print(hashlib.sha256(rgba).hexdigest(), hashlib.sha256(t).hexdigest())
EOF
)
    check "pixels: exits 0 and reports 4 tiles of the whole RGBA image" \
        [ "$st" = 0 -a "$(jq -r '"\(.type) \(.w) \(.h) \(.tiles) \(.sha256)"' <<<"$out")" = "pixels 5 3 4 ${want%% *}" ]
    sleep 0.3
    check "pixels: remote-eval creates the source, then 4 PIXELTILEs, then redraw" \
        [ "$(jq -r 'select(.contact=="parley-rv" and (.type=="pixeltile" or .name=="remote-eval")) | .type' "$tmp/s2.json" | tail -n 6 | tr '\n' ' ')" = "returnevent pixeltile pixeltile pixeltile pixeltile event " ]
    check "pixels: tiles are RGBA8 bottom-up with media, w, h, x, y and f=1" \
        [ "$(count "$tmp/s2.json" ".type==\"pixeltile\" and .media==\"img1\" and .x==0 and .y==0 and .w==2 and .h==1 and .f==1 and .bytes==8 and .sha256==\"${want##* }\"")" = 1 -a \
          "$(count "$tmp/s2.json" '.type=="pixeltile" and .media=="img1" and .x==2 and .y==1 and .w==3 and .h==2 and .bytes==24')" = 1 ]
    printf 'hello\x00bin' >"$tmp/small.bin"
    timeout 20 "$RV" --contact d1 "127.0.0.1:$port" data ev1 text/x "$tmp/small.bin" \
        event "after-data" "x"
    st=$?
    sleep 0.3
    check "data: a DATAEVENT with the file's bytes, then the next command" \
        [ "$st" = 0 -a \
          "$(count "$tmp/s2.json" ".type==\"dataevent\" and .contact==\"d1\" and .name==\"ev1\" and .content_type==\"text/x\" and .bytes==9 and .sha256==\"$(sha256sum "$tmp/small.bin" | cut -d' ' -f1)\"")" = 1 -a \
          "$(count "$tmp/s2.json" '.type=="event" and .contact=="d1" and .name=="after-data"')" = 1 ]
    # A raw peer: serve greets back NEWGREETING srv viewer and PINGPONGCONTROL
    # 1 0; a zero LEN gets DISCONNECT and a close, and an error line.
    out=$("$PY" - "$port" <<'EOF'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
s.sendall(b'NEWGREETING 7 raw app')
s.sendall(b'MESSAGE 0 ')
got = b''
while True:
    d = s.recv(4096)
    if not d: break
    got += d
print(got.decode())
EOF
)
    check "serve: greets NEWGREETING srv viewer, then on bad input DISCONNECT and close" \
        [ "$out" = "NEWGREETING 10 srv viewerPINGPONGCONTROL 1 0MESSAGE 10 DISCONNECT" ]
    sleep 0.2
    check "serve: prints the contact error and the contact leaving" \
        [ "$(count "$tmp/s2.json" '.type=="error" and .contact=="raw" and .error=="PARLEY_EPROTO" and .closing==true')" = 1 -a \
          "$(count "$tmp/s2.json" '.type=="contact-left" and .contact=="raw" and .reason=="error"')" = 1 ]
    stop "$serve_pid"
}

# ---- 3. against a scripted RV: listen, refusal, loss, no RETURN ----
test_fake() {
    local out st
    fake talk
    out=$(timeout 20 "$RV" --contact lis --app lisapp "127.0.0.1:$fake_port" listen)
    st=$?
    wait "$fake_pid" 2>/dev/null
    check "listen: prints the EVENT and RETURNEVENT it gets as JSON lines" \
        [ "$(jq -c 'select(.type=="event") | [.contact,.name,.target,.contents]' <<<"$out")" = '["fakerv","hello","*","there  two"]' -a \
          "$(jq -c 'select(.type=="returnevent") | [.name,.contents,.seq]' <<<"$out")" = '["q","?",0]' ]
    check "listen: greets first with NEWGREETING lis lisapp" \
        [ "$(head -n 1 "$tmp/fake.log")" = "NEWGREETING lis lisapp" ]
    check "listen: PINGPONGCONTROL 1 0 after the greetings" \
        grep -qx "PINGPONGCONTROL 0" "$tmp/fake.log"
    check "listen: answers the PING with PONG 1 p" grep -qx "PONG p" "$tmp/fake.log"
    check "listen: answers the RETURNEVENT with an empty RETURN" \
        grep -qx "MESSAGE RETURN " "$tmp/fake.log"
    check "listen: sends nothing back after the peer's DISCONNECT" \
        [ "$(grep -c "MESSAGE DISCONNECT" "$tmp/fake.log")" = 0 ]
    check "listen: exits 0 when the peer sends DISCONNECT" [ "$st" = 0 ]

    fake mute
    timeout 20 "$RV" --timeout 0.5 "127.0.0.1:$fake_port" returnevent x y >/dev/null 2>&1
    st=$?
    check "returnevent: no RETURN in time exits 124" [ "$st" = 124 ]
    wait "$fake_pid" 2>/dev/null
    check "the client signs off with DISCONNECT before closing" \
        grep -qx "MESSAGE DISCONNECT" "$tmp/fake.log"

    fake refuse
    timeout 20 "$RV" "127.0.0.1:$fake_port" event a b >/dev/null 2>"$tmp/err"
    st=$?
    wait "$fake_pid" 2>/dev/null
    check "closed before the greeting (refused) exits 1" [ "$st" = 1 ]

    fake drop
    timeout 20 "$RV" "127.0.0.1:$fake_port" listen >/dev/null 2>&1
    st=$?
    wait "$fake_pid" 2>/dev/null
    check "listen: a connection lost without DISCONNECT exits 1" [ "$st" = 1 ]

    # a port nobody listens on
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$tmp/free.port"
    timeout 20 "$RV" --timeout 2 "127.0.0.1:$(cat "$tmp/free.port")" event a b >/dev/null 2>&1
    st=$?
    check "connection refused exits 1" [ "$st" = 1 ]
}

# ---- 4. bad arguments exit 2 ----
test_usage() {
    local st fails=0
    run2() {
        timeout 10 "$RV" "$@" >/dev/null 2>&1
        st=$?
        [ "$st" = 2 ] || { echo "  '$*' exited $st"; fails=$((fails + 1)); }
    }
    printf 'not an image' >"$tmp/bad.ppm"
    run2
    run2 127.0.0.1:1
    run2 127.0.0.1:1 frobnicate
    run2 127.0.0.1:1 event onlyname
    run2 --timeout -1 127.0.0.1:1 listen
    run2 --bogus x 127.0.0.1:1 listen
    run2 127.0.0.1:1 pixels m "$tmp/bad.ppm"
    run2 127.0.0.1:1 pixels m "$tmp/img.ppm" --tiles 0x2
    run2 127.0.0.1:1 data ev type "$tmp/does-not-exist"
    run2 --contact "a b" 127.0.0.1:1 listen
    run2 --app rv 127.0.0.1:1 listen
    run2 serve --port 70000
    run2 serve --echo --reply x
    run2 serve --frob
    check "bad arguments exit 2 (13 cases)" [ "$fails" = 0 ]
    "$RV" --help | grep -q "usage: parley-rv serve"
    check "--help prints the usage" [ $? = 0 ]
}

test_twenty
test_commands
test_fake
test_usage
summary
