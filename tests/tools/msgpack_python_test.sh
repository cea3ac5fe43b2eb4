#!/usr/bin/env bash
# Payloads across languages: a payload built by parley is decoded by
# Python's msgpack (Debian python3-msgpack) and compared value by value;
# payloads packed by Python are read by parley's reader; event ids agree
# with an FNV-1a 64 written in Python. Uses example_payload_codec.
# Usage: bash msgpack_python_test.sh BUILD_DIR SOURCE_DIR
set -u
build=${1:?usage: msgpack_python_test.sh BUILD_DIR SOURCE_DIR}
CODEC=$build/example_payload_codec
[ -x "$CODEC" ] || { echo "missing $CODEC"; echo "0 passed, 1 failed"; exit 1; }

# The python3 that has msgpack (Debian's; a pyenv one first on PATH may
# not have it).
py=
for cand in /usr/bin/python3 python3; do
    if "$cand" -c 'import msgpack' 2>/dev/null; then
        py=$cand
        break
    fi
done
if [ -z "$py" ]; then
    echo "FAIL no python3 with msgpack (apt-get install python3-msgpack)"
    echo "0 passed, 1 failed"
    exit 1
fi

CODEC="$CODEC" exec "$py" - <<'PYEOF'
import os, struct, subprocess, sys
import msgpack

codec = os.environ["CODEC"]
passed = failed = 0

def check(what, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what + ("\n  " + detail if detail else ""))

def run(args, data=None):
    return subprocess.run([codec] + args, input=data, capture_output=True,
                          timeout=20)

# ---- parley -> Python ----
out = run(["encode"]).stdout
obj = msgpack.unpackb(out, raw=False, strict_map_key=False)
expect_args = [5, "hello", [1, 2, 3], None, True, False, -2**63, -129,
               2**64 - 1, -0.1, b"\x00\x01\xfe\xff", "caf\u00e9 \u2713"]
expect_kwargs = {"foo": 78, "bar": ["more", "data"],
                 "pose": {"pos": [1.5, 0.0, -2.25], "empty": {}}}
check("parley payload decodes in Python as [args, kwargs]",
      isinstance(obj, list) and len(obj) == 2, repr(obj))
check("every positional value and type survives", obj[0] == expect_args and
      [type(x) for x in obj[0]] == [type(x) for x in expect_args], repr(obj[0]))
check("keyword arguments survive, in order", obj[1] == expect_kwargs and
      list(obj[1]) == ["foo", "bar", "pose"], repr(obj[1]))
check("the encoding is the canonical (smallest) one Python writes",
      msgpack.packb([expect_args, expect_kwargs], use_bin_type=True) == out,
      out.hex())

# ---- Python -> parley ----
def render(v):
    # The same text example_payload_codec prints.
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool:" + ("true" if v else "false")
    if isinstance(v, int):
        return "int:%d" % v
    if isinstance(v, float):
        return "double:" + ("%.17g" % v)
    if isinstance(v, str):
        return "str:" + v.encode().hex()
    if isinstance(v, bytes):
        return "bytes:" + v.hex()
    if isinstance(v, (list, tuple)):
        return "array[" + ",".join(render(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map{" + ",".join(render(k) + "=" + render(x)
                                 for k, x in v.items()) + "}"
    raise TypeError(v)

cases = [
    ([], {}),
    ([5, "hello", [1, 2, 3]], {"foo": 78, "bar": ["more", "data"]}),
    ([2**64 - 1, -2**63, 2**63, -1, 0, 127, 128, 255, 256, 65535, 65536,
      -32, -33, -128, -129, -32768, -32769, 2**32, -2**31 - 1], {}),
    ([1.5, -0.0, 1e300, 5e-324, float("inf")], {"x": 0.1}),
    ([b"", b"\x00" * 300, "", "x" * 31, "y" * 32, "z" * 70000], {}),
    ([[[[[[[[[]]]]]]]]], {"nested": {"a": {"b": [1, {"c": None}]}}}),
    (list(range(20)), {("k%d" % i): i for i in range(20)}),
    ([{1: "int key", "s": 2}], {"\u00e9": True}),
]
for i, (args, kwargs) in enumerate(cases):
    data = msgpack.packb([args, kwargs], use_bin_type=True)
    r = run(["decode"], data)
    want = "args " + render(args) + "\nkwargs " + render(kwargs) + "\n"
    got = r.stdout.decode(errors="replace")
    check("Python payload %d (%d bytes) reads back value for value"
          % (i, len(data)), r.returncode == 0 and got == want,
          "want %r\n  got  %r %r" % (want[:300], got[:300], r.stderr))

# float32 (Python's use_single_float) reads as a double.
data = msgpack.packb([[1.5, 0.25], {}], use_single_float=True)
r = run(["decode"], data)
check("float32 values read as doubles",
      r.stdout == b"args array[double:1.5,double:0.25]\nkwargs map{}\n",
      repr(r.stdout))

# What parley refuses, Python can produce: ext types, non-string
# keywords, a wrong shape. Each is refused cleanly (exit 1, a message).
bad = [msgpack.packb([[msgpack.ExtType(1, b"x")], {}]),
       msgpack.packb([[], {1: 2}]),
       msgpack.packb({"args": []}),
       msgpack.packb([[]]),
       msgpack.packb([[], {}]) + b"\x00"]
for i, data in enumerate(bad):
    r = run(["decode"], data)
    check("malformed payload %d is refused with a message" % i,
          r.returncode == 1 and b"protocol error" in r.stderr,
          repr((r.returncode, r.stderr)))

# ---- event ids: FNV-1a 64 in Python ----
def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

names = ["", "a", "foobar", "update", "chat", "pose", "caf\u00e9",
         "EJYlUBbYPRJ", "qMQh-vtdLdL", "x" * 255]
r = run(["id"] + names[1:])
got = r.stdout.decode().split()
check("event ids match a Python FNV-1a 64 for %d names" % (len(names) - 1),
      got == ["%016x" % fnv1a64(n) for n in names[1:]], repr(got))
check("FNV-1a 64 reference vectors",
      fnv1a64("") == 0xcbf29ce484222325 and fnv1a64("a") == 0xaf63dc4c8601ec8c
      and fnv1a64("foobar") == 0x85944171f73967e8)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PYEOF
