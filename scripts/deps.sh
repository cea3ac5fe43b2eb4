#!/usr/bin/env bash
# Installs the Debian packages parley needs to build, test, fuzz and
# benchmark. Idempotent and quick when everything is already present.
set -euo pipefail

pkgs=(cmake make gcc clang libclang-rt-14-dev pkg-config
      libsodium-dev libmsgpack-dev libjansson-dev libenet-dev
      python3 python3-msgpack iproute2 nftables jq)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: need root to install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
