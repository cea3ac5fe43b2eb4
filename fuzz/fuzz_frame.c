/*
 * Fuzz target: arbitrary bytes as the payload of a DATA packet, decoded
 * frame by frame. Every frame that decodes is encoded again and must
 * decode to the same values; ACKs are also re-encoded into a smaller
 * writer and must keep their highest ranges.
 */
#include "wire_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_frames(data, size);
    return 0;
}
