#!/usr/bin/python3
"""Test tool for security_test.sh: a hostile UDP flood against parley-relay.

Usage: security_flood.py RELAY_PORT PORT_FILE START_FILE N_TOTAL N_CONNECT

It listens on 127.0.0.1 (port written to PORT_FILE) as a transparent proxy
to the relay, so one real client's packets pass through it and it captures
the client's newest packets (refreshed during the flood). Once START_FILE exists it sends N_TOTAL
datagrams to the relay: N_CONNECT spoofed-looking 1200-byte CONNECTs (type
0x10, magic "PRLY") from 64 source ports, and the rest a mix of random
garbage, truncated and bit-flipped copies of captured packets, exact
replays of captured packets (from the client's own proxied address and
from other ports) and forged DATA headers. Prints one line with the
counts and the rate, then keeps proxying until it is killed.
Standard library only.
"""
import os
import random
import select
import socket
import struct
import sys
import threading
import time

RELAY = ("127.0.0.1", int(sys.argv[1]))
PORT_FILE, START_FILE = sys.argv[2], sys.argv[3]
N_TOTAL, N_CONNECT = int(sys.argv[4]), int(sys.argv[5])

captured = []
lock = threading.Lock()


def proxy(front, back):
    """Forwards client <-> relay; keeps copies of the client's packets."""
    client = None
    while True:
        ready, _, _ = select.select([front, back], [], [])
        for s in ready:
            data, src = s.recvfrom(65536)
            if s is front:
                client = src
                with lock:
                    captured.append(data)
                    del captured[:-400]  # the newest 400
                back.send(data)
            elif client is not None:
                front.sendto(data, client)


def connect_packet(rng):
    body = struct.pack(">BIHI", 0x10, 0x50524C59, 1, rng.getrandbits(32) | 1)
    body += rng.randbytes(8)  # client nonce
    body += struct.pack(">HBII", 1200, 2, 1 << 20, rng.choice([0, 1, 3, 7]))
    body += struct.pack(">H", 0)  # no user data
    body += rng.randbytes(rng.choice([0, 32, 64, 128]))  # "extension"
    return body + bytes(1200 - len(body))


def hostile_packet(rng, pool):
    kind = rng.randrange(6)
    if kind == 0 or not pool:  # garbage of any length, any type byte
        return rng.randbytes(rng.randrange(0, 1400)), False
    p = rng.choice(pool)
    if kind == 1:  # truncated
        return p[: rng.randrange(0, len(p))], False
    if kind == 2:  # tampered: one bit flipped
        b = bytearray(p)
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
        return bytes(b), False
    if kind == 3:  # exact replay (sent from the client's own address)
        return p, True
    if kind == 4:  # exact replay from another address
        return p, False
    hdr = struct.pack(">BII", 0x01, rng.getrandbits(32), rng.getrandbits(32))
    return hdr + rng.randbytes(rng.randrange(1, 1200)), False  # forged DATA


def main():
    rng = random.Random(8)
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", 0))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect(RELAY)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write("%d\n" % front.getsockname()[1])
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    threading.Thread(target=proxy, args=(front, back), daemon=True).start()
    while not os.path.exists(START_FILE):
        time.sleep(0.02)
    with lock:
        pool = list(captured)
    socks = []
    for _ in range(64):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    sent = connects = replays = dropped = 0
    t0 = time.monotonic()
    for i in range(N_TOTAL):
        replay = False
        if i % max(1, N_TOTAL // N_CONNECT) == 0 and connects < N_CONNECT:
            pkt = connect_packet(rng)
            connects += 1
        else:
            pkt, replay = hostile_packet(rng, pool)
        try:
            if replay:
                back.send(pkt)
                replays += 1
            else:
                rng.choice(socks).sendto(pkt, RELAY)
            sent += 1
        except (BlockingIOError, ConnectionRefusedError):
            dropped += 1
        if i % 2000 == 1999:
            time.sleep(0.002)  # let the relay's socket buffer drain a bit
            with lock:  # replay the client's newest packets too
                pool = list(captured)
    dt = time.monotonic() - t0
    print("flood: %d datagrams (%d CONNECTs, %d replays of the proxied "
          "client's packets, %d not sent) in %.2f s, %.0f/s"
          % (sent, connects, replays, dropped, dt, sent / dt),
          flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
