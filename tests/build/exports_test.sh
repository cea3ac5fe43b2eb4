#!/usr/bin/env bash
# The shared library exports only parley_ symbols (ARCHITECTURE.md: only the
# public API is visible), and it exports the functions the headers declare.
set -euo pipefail
build=$1
lib=$(ls "$build"/libparley.so.* 2>/dev/null | head -n 1)
[ -n "$lib" ] || { echo "no libparley.so in $build"; exit 1; }
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}')
count=$(printf '%s\n' "$syms" | grep -c . || true)
bad=$(printf '%s\n' "$syms" | grep -v '^parley_' | grep -v '^_' || true)
# Internal pl_ functions must stay hidden.
if [ -n "$bad" ]; then
    echo "exported symbols outside the parley_ prefix:"; echo "$bad"
    echo "0 passed, 1 failed"; exit 1
fi
for want in parley_strerror parley_err_name parley_version parley_log_set \
            parley_replace_allocator; do
    # A here-string, not a pipe: with pipefail, grep -q closing the pipe
    # early would make printf fail on SIGPIPE and the check fail falsely.
    if ! grep -qx "$want" <<<"$syms"; then
        echo "missing export: $want"; echo "0 passed, 1 failed"; exit 1
    fi
done
if grep -q '^pl_' <<<"$syms"; then
    echo "internal pl_ symbol exported"; exit 1
fi
echo "checked $count exported symbols"
echo "1 passed, 0 failed"
