#!/usr/bin/env bash
# Writes the seed corpora fuzz/corpus/{packet,frame,handshake,twohost}/
# from the golden
# vectors of docs/PROTOCOL.md (the same hex the unit tests check). Run it
# after changing a golden vector; crash inputs added by hand stay.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
pkt="$root/fuzz/corpus/packet"
frm="$root/fuzz/corpus/frame"
hs="$root/fuzz/corpus/handshake"
two="$root/fuzz/corpus/twohost"
mkdir -p "$pkt" "$frm" "$hs" "$two"

# hex FILE HEX [PAD_TO]: writes the bytes, zero-padded to PAD_TO.
hex() {
    printf '%s' "$2" | tr -d ' ' | xxd -r -p >"$1"
    if [ $# -ge 3 ]; then
        truncate -s "$3" "$1"
    fi
}

padding="000000"
ping="01"
ack="02 4064 40fa 02 05 030a 0800"
disc1="03 01 00"
disc2="03 03 43e8"
window="04 80100000"
msg_ro="10 00 00 02 6869"
msg_us="14 01 4046 00"
msg_u="16 07 412c 03 616263"
frag_ru="13 02 05 4bb8 44b0 04 7778797a"
frag_u="17 ff 3f 0a 08 02 7a7a"
hdr="01 11223344 12345678"
body="50524c59 0001 0a0b0c0d 0102030405060708 0578 04 00100000 00000000"
cookie="0000000065000000"
cookie+="cbc1bf785e7cf8faa817c73622acf90cfd31b95943a2f50837c77e64c7d31841"

hex "$frm/padding" "$padding"
hex "$frm/ping" "$ping"
hex "$frm/ack" "$ack"
hex "$frm/disconnect_graceful" "$disc1"
hex "$frm/disconnect_kicked" "$disc2"
hex "$frm/window" "$window"
hex "$frm/msg_reliable_ordered" "$msg_ro"
hex "$frm/msg_unreliable_sequenced_empty" "$msg_us"
hex "$frm/msg_unreliable" "$msg_u"
hex "$frm/frag_reliable_unordered" "$frag_ru"
hex "$frm/frag_unreliable_last" "$frag_u"
hex "$frm/all_frames" "$ping $ack $disc2 $window $msg_ro $msg_us $msg_u \
$frag_ru $frag_u $disc1 $padding"

hex "$pkt/data_ack_msg_padding" "$hdr $ack $msg_ro $padding"
hex "$pkt/data_frags" "$hdr $frag_ru $frag_u $msg_us"
hex "$pkt/data_control" "$hdr $ping $window $disc2"
hex "$pkt/connect" "10 $body 0005 68656c6c6f" 1200
hex "$pkt/connect_no_user" "10 $body 0000" 1200
hex "$pkt/connect_pmtu" "10 ${body%00000000}00000010 0005 68656c6c6f 2328" 1200
hex "$pkt/accept_pmtu" "13 0a0b0c0d 0102030405060708 cafef00d 0578 04 00010000 \
00000010 ffe3"
hex "$pkt/response" "12 $body 0005 68656c6c6f $cookie" 1200
hex "$pkt/challenge" "11 0a0b0c0d 0102030405060708 $cookie"
hex "$pkt/accept" "13 0a0b0c0d 0102030405060708 cafef00d 0578 04 00010000 \
00000000"
hex "$pkt/reject" "14 0a0b0c0d 0102030405060708 03 0000002a"

# ---- the security extension (docs/PROTOCOL.md 13.9) ----
cpk="8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
spk="8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f"
pskmac="cdd4ba0b0538fc3b9d1411d54a73264b"
token="0000000070000000 000000000000002a"
token+="a7b6af4a127faccdae9b0381e51e62df21c616c17213b252d9e608ecf2915418"
token+="0dc614b9ce961e7a3d1b15bc3392091b9f71c6a5c13dbf274e71329c3df06d07"
sig="120d115e110dbd709049b8b5c3dec0d444ff107fdd32834bffb02211a991fdb1"
sig+="65ca1849f5f50983f8e48488fbf81be35ccb52bdf650a5ed6e6cfa98adeb3d0c"
ebody() { # FLAGS: the CONNECT body with those flags
    echo "50524c59 0001 0a0b0c0d 0102030405060708 0578 04 00100000 $1"
}
hex "$pkt/data_sealed" "01 cafef00d 00000000 c3 fa9eeb3f2bc5bed3abfdc6440a94207d"

# handshake: byte 0 is the server mode (0 open, 1 PSK, 2 token,
# 3 identity, +4 the client pins), then the datagram.
hex "$hs/open_connect" "00 10 $(ebody 00000001) 0005 68656c6c6f $cpk" 1201
hex "$hs/psk_connect" "01 10 $(ebody 00000003) 0005 68656c6c6f $cpk \
$pskmac" 1201
hex "$hs/token_connect" "02 10 $(ebody 00000005) 0005 68656c6c6f $cpk \
$token" 1201
hex "$hs/identity_connect" "03 10 $(ebody 00000009) 0000 $cpk" 1201
hex "$hs/plain_connect_to_encrypted" "00 10 $(ebody 00000000) 0000" 1201
hex "$hs/accept_encrypted" "00 13 0a0b0c0d 0102030405060708 cafef00d 0578 \
04 00010000 00000001 $spk d6cede99f940f604372b871ffa319eaf"
hex "$hs/accept_identity_pinned" "07 13 0a0b0c0d 0102030405060708 cafef00d \
0578 04 00010000 00000009 $spk ca294d047067a382b4718c4b703f14b0 $sig"
hex "$hs/reject_security" "00 14 0a0b0c0d 0102030405060708 05 00000002"
hex "$hs/challenge" "00 11 0a0b0c0d 0102030405060708 $cookie"

# twohost: byte 0 setup (bit 0 plaintext, bit 1 PSK), then ops (see
# fuzz/fuzz_twohost.c): 0 send a, 1 send b, 2 run, 3 flip, 4 drop,
# 5 inject, 6 replay, 7 truncate, 8 disconnect a, 9 reconnect.
hex "$two/chat" "00 0250 000800 0204 010103 000250 001001 0250"
hex "$two/flip_and_replay" "00 0250 0320 00 0008 00 0210 06 0210 0003 0105 \
06 0250"
hex "$two/psk_drop_truncate" "02 0250 04 0020 00 0210 0710 0008 00 0250"
hex "$two/plaintext_inject" "01 0250 0500 0e 01 11223344 00000005 10 00 00 \
02 6869 0250"
hex "$two/disconnect_reconnect" "00 0250 0008 00 0801 0210 09 0280 0004 00 \
0250"
hex "$two/flip_handshake" "00 0300 07 0210 0300 50 0280 0004 00 0250"
