#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds a small program
# against it three ways: pkg-config with the shared library, pkg-config
# --static, and CMake's find_package(parley). Each program must run.
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {
    if "$@"; then pass=$((pass + 1)); else echo "FAIL: $*"; fail=$((fail + 1)); fi
}

# Build the consumers as the library was built: same compiler, and the
# sanitizer runtime when the build is a sanitizer build.
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
cc=${cc:-cc}
san=
if grep -q '^PARLEY_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    san="-fsanitize=address,undefined"
fi
export CC=$cc CFLAGS=$san LDFLAGS=$san

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib* | head -n 1)

cat >"$tmp/main.c" <<'C'
#include <parley/parley.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    parley_addr a;
    char text[PARLEY_ADDR_STRLEN];
    if (parley_addr_parse("[::1]:4950", 0, &a) != PARLEY_OK) return 1;
    parley_addr_format(&a, text, sizeof text);
    if (strcmp(text, "[::1]:4950") != 0) return 2;
    printf("%s %s\n", parley_version(), parley_err_name(PARLEY_ETIMEDOUT));
    return 0;
}
C

export PKG_CONFIG_PATH="$libdir/pkgconfig"
shared_ok() {
    "$cc" $san -o "$tmp/shared" "$tmp/main.c" $(pkg-config --cflags --libs parley) &&
    out=$(LD_LIBRARY_PATH="$libdir" "$tmp/shared") &&
    grep -q "PARLEY_ETIMEDOUT" <<<"$out"
}
static_ok() {
    "$cc" $san -DPARLEY_STATIC -o "$tmp/static" "$tmp/main.c" \
        $(pkg-config --cflags parley) "$libdir/libparley.a" \
        $(pkg-config --libs-only-l --static parley | sed 's/-lparley//') &&
    deps=$(ldd "$tmp/static") && ! grep -q libparley <<<"$deps" &&
    out=$("$tmp/static") && grep -q "PARLEY_ETIMEDOUT" <<<"$out"
}
cmake_ok() {
    mkdir -p "$tmp/cm"
    cat >"$tmp/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(parley REQUIRED)
add_executable(consumer ../main.c)
target_link_libraries(consumer PRIVATE parley::parley)
CM
    cmake -S "$tmp/cm" -B "$tmp/cm/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null &&
    cmake --build "$tmp/cm/b" >/dev/null &&
    out=$(LD_LIBRARY_PATH="$libdir" "$tmp/cm/b/consumer") &&
    grep -q "PARLEY_ETIMEDOUT" <<<"$out"
}
check shared_ok
check static_ok
check cmake_ok
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
