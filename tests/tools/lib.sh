# What the tools' end-to-end tests share. Source it after `set -u`; it
# gives a scratch directory ($tmp), a list of background processes that
# are killed on exit ($pids), pass/fail counting with ok/bad/check, and
# start_listening/stop for servers that print "listening on ADDR:PORT".
# A test may define fail_detail (called by bad) to show its logs.

tmp=$(mktemp -d)
pids=()
passed=0
failed=0

cleanup() {
    local p
    exec 3>&- 2>/dev/null # a command fifo some tests keep open
    for p in "${pids[@]}"; do
        kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() {
    failed=$((failed + 1))
    echo "FAIL $*"
    if declare -F fail_detail >/dev/null; then
        fail_detail
    fi
}
check() { # check DESCRIPTION TEST-COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# show_logs FILE...: the non-empty ones, indented, last 40 lines each.
show_logs() {
    local f
    for f in "$@"; do
        [ -s "$f" ] && { echo "  -- $f"; sed 's/^/  | /' "$f" | tail -n 40; }
    done
    return 0
}

# need_exe FILE...: every file must be an executable, or the test fails.
need_exe() {
    local exe
    for exe in "$@"; do
        [ -x "$exe" ] || { echo "missing $exe"; echo "0 passed, 1 failed"; exit 1; }
    done
}

# start_listening LOGFILE CMD...: runs CMD in the background (stderr to
# LOGFILE) and waits up to 5 s for its "listening on ADDR:PORT" line; sets
# $port and $pid. Returns 1 if the line never came.
start_listening() {
    local log=$1
    shift
    # Empty the log first: the background job may not have opened it yet
    # when we first look, and an old run's line must not be taken for its.
    : >"$log"
    "$@" 2>"$log" &
    pid=$!
    pids+=("$pid")
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")
        [ -n "$port" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "did not start: $*"; cat "$log"
    return 1
}

# stop PID: SIGTERM, then up to 5 s; sets $status (124 if it hung).
stop() {
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -9 "$1"
        wait "$1" 2>/dev/null
        status=124
    else
        wait "$1"
        status=$?
    fi
}

# summary: the closing line, and the exit status.
summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
