#!/usr/bin/env bash
# Writes the seed corpora fuzz/corpus/{packet,frame}/ from the golden
# vectors of docs/PROTOCOL.md (the same hex the unit tests check). Run it
# after changing a golden vector; crash inputs added by hand stay.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
pkt="$root/fuzz/corpus/packet"
frm="$root/fuzz/corpus/frame"
mkdir -p "$pkt" "$frm"

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
hex "$pkt/response" "12 $body 0005 68656c6c6f $cookie" 1200
hex "$pkt/challenge" "11 0a0b0c0d 0102030405060708 $cookie"
hex "$pkt/accept" "13 0a0b0c0d 0102030405060708 cafef00d 0578 04 00010000 \
00000000"
hex "$pkt/reject" "14 0a0b0c0d 0102030405060708 03 0000002a"
