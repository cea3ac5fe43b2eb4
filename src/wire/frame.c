/*
 * Frame codec (frame.h): one decoder per frame type behind a single
 * dispatch, encoders that leave the writer unchanged when they fail, and
 * the size arithmetic the engine plans packets with.
 */
#include "wire/frame.h"

#include "parley/error.h"

/* ---- decoding ---------------------------------------------------------- */

static int
decode_padding(pl_rd *rd, pl_frame *f)
{
    size_t n = pl_rd_left(rd);
    const uint8_t *p = pl_rd_bytes(rd, n);
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return PARLEY_EPROTO;
        }
    }
    f->u.padding.len = n + 1;
    return PARLEY_OK;
}

/* Turns the (gap, len) pairs into descending inclusive ranges; a range
   reaching below packet 0 is malformed. */
static int
decode_ack(pl_rd *rd, pl_frame *f)
{
    uint64_t largest = pl_rd_varint(rd);
    uint64_t delay = pl_rd_varint(rd);
    uint64_t count = pl_rd_varint(rd);
    uint64_t first = pl_rd_varint(rd);
    if (rd->err || count > PL_ACK_MAX_RANGES - 1 || first > largest) {
        return PARLEY_EPROTO;
    }
    f->u.ack.largest = largest;
    f->u.ack.delay_us = delay;
    f->u.ack.r[0].hi = largest;
    f->u.ack.r[0].lo = largest - first;
    for (size_t i = 1; i <= count; i++) {
        uint64_t gap = pl_rd_varint(rd);
        uint64_t len = pl_rd_varint(rd);
        uint64_t below = f->u.ack.r[i - 1].lo;
        /* Varints are < 2^62, so gap + 2 cannot wrap. */
        if (rd->err || below < gap + 2 || below - gap - 2 < len) {
            return PARLEY_EPROTO;
        }
        f->u.ack.r[i].hi = below - gap - 2;
        f->u.ack.r[i].lo = f->u.ack.r[i].hi - len;
    }
    f->u.ack.n = (size_t)count + 1;
    return PARLEY_OK;
}

static int
decode_disconnect(pl_rd *rd, pl_frame *f)
{
    f->u.disconnect.reason = pl_rd_u8(rd);
    f->u.disconnect.code = pl_rd_varint(rd);
    if (rd->err || f->u.disconnect.reason == 0) {
        return PARLEY_EPROTO;
    }
    return PARLEY_OK;
}

static int
decode_window(pl_rd *rd, pl_frame *f)
{
    f->u.window.bytes = pl_rd_varint(rd);
    return rd->err ? PARLEY_EPROTO : PARLEY_OK;
}

static int
decode_msg(pl_rd *rd, uint8_t type, pl_frame *f)
{
    f->u.msg.mode = (uint8_t)((type >> 1) & 3);
    f->u.msg.frag = (uint8_t)(type & PL_FRAME_MSG_FRAG_BIT);
    f->u.msg.channel = pl_rd_u8(rd);
    f->u.msg.seq = pl_rd_varint(rd);
    uint64_t total = 0, offset = 0, len;
    if (f->u.msg.frag) {
        total = pl_rd_varint(rd);
        offset = pl_rd_varint(rd);
    }
    len = pl_rd_varint(rd);
    if (!f->u.msg.frag) {
        total = len;
    } else if (total == 0 || len == 0 || offset > total ||
               len > total - offset) {
        return PARLEY_EPROTO;
    }
    if (rd->err || len > pl_rd_left(rd)) {
        return PARLEY_EPROTO;
    }
    f->u.msg.total_len = total;
    f->u.msg.offset = offset;
    f->u.msg.len = (size_t)len;
    f->u.msg.data = pl_rd_bytes(rd, (size_t)len);
    return PARLEY_OK;
}

int
pl_frame_decode(pl_rd *rd, pl_frame *f)
{
    if (pl_rd_left(rd) == 0) {
        return PARLEY_EPROTO;
    }
    uint8_t type = pl_rd_u8(rd);
    f->type = type;
    switch (type) {
    case PL_FRAME_PADDING:
        return decode_padding(rd, f);
    case PL_FRAME_PING:
        return PARLEY_OK;
    case PL_FRAME_ACK:
        return decode_ack(rd, f);
    case PL_FRAME_DISCONNECT:
        return decode_disconnect(rd, f);
    case PL_FRAME_WINDOW:
        return decode_window(rd, f);
    default:
        break;
    }
    if (type >= PL_FRAME_MSG && type <= PL_FRAME_MSG_LAST) {
        f->type = PL_FRAME_MSG;
        return decode_msg(rd, type, f);
    }
    return PARLEY_EPROTO;
}

/* ---- encoding ---------------------------------------------------------- */

int
pl_frame_encode_padding(pl_wr *wr, size_t n)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    pl_wr_zeros(wr, n);
    return pl_wr_finish(wr, start);
}

int
pl_frame_encode_ping(pl_wr *wr)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    pl_wr_u8(wr, PL_FRAME_PING);
    return pl_wr_finish(wr, start);
}

int
pl_frame_encode_disconnect(pl_wr *wr, uint8_t reason, uint64_t app_code)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (reason == 0 || app_code > PL_VARINT_MAX) {
        return PARLEY_EINVAL;
    }
    pl_wr_u8(wr, PL_FRAME_DISCONNECT);
    pl_wr_u8(wr, reason);
    pl_wr_varint(wr, app_code);
    return pl_wr_finish(wr, start);
}

int
pl_frame_encode_window(pl_wr *wr, uint64_t bytes)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (bytes > PL_VARINT_MAX) {
        return PARLEY_EINVAL;
    }
    pl_wr_u8(wr, PL_FRAME_WINDOW);
    pl_wr_varint(wr, bytes);
    return pl_wr_finish(wr, start);
}

/* Checks r[0..n): each lo <= hi, descending with a gap of at least one
   packet between neighbours, r[0].hi a valid varint. */
static int
ack_ranges_valid(const pl_ack_range *r, size_t n)
{
    if (r == NULL || n == 0 || r[0].hi > PL_VARINT_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (r[i].lo > r[i].hi) {
            return 0;
        }
        if (i > 0 && (r[i - 1].lo < 2 || r[i].hi > r[i - 1].lo - 2)) {
            return 0;
        }
    }
    return 1;
}

/* The encoded size of range i > 0: its gap and length varints. */
static size_t
ack_pair_size(const pl_ack_range *r, size_t i)
{
    return pl_varint_len(r[i - 1].lo - r[i].hi - 2) +
           pl_varint_len(r[i].hi - r[i].lo);
}

/* Type, largest, delay, count (always one byte: count < 64), first. */
static size_t
ack_head_size(const pl_ack_range *r, uint64_t delay_us)
{
    return 1 + pl_varint_len(r[0].hi) + pl_varint_len(delay_us) + 1 +
           pl_varint_len(r[0].hi - r[0].lo);
}

int
pl_frame_encode_ack(pl_wr *wr, const pl_ack_range *r, size_t n,
                    uint64_t delay_us, size_t *n_written)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    n = n < PL_ACK_MAX_RANGES ? n : PL_ACK_MAX_RANGES;
    if (!ack_ranges_valid(r, n) || delay_us > PL_VARINT_MAX) {
        return PARLEY_EINVAL;
    }
    size_t room = pl_wr_left(wr);
    size_t need = ack_head_size(r, delay_us);
    if (need > room) {
        return PARLEY_ENOBUFS;
    }
    size_t k = 1;
    while (k < n && need + ack_pair_size(r, k) <= room) {
        need += ack_pair_size(r, k);
        k++;
    }
    pl_wr_u8(wr, PL_FRAME_ACK);
    pl_wr_varint(wr, r[0].hi);
    pl_wr_varint(wr, delay_us);
    pl_wr_varint(wr, k - 1);
    pl_wr_varint(wr, r[0].hi - r[0].lo);
    for (size_t i = 1; i < k; i++) {
        pl_wr_varint(wr, r[i - 1].lo - r[i].hi - 2);
        pl_wr_varint(wr, r[i].hi - r[i].lo);
    }
    int rc = pl_wr_finish(wr, start);
    if (rc == PARLEY_OK && n_written) {
        *n_written = k;
    }
    return rc;
}

/* MESSAGE frame up to (not including) the length varint. */
static void
write_msg_head(pl_wr *wr, uint8_t mode, uint8_t frag, uint8_t channel,
               uint64_t seq)
{
    pl_wr_u8(wr, (uint8_t)(PL_FRAME_MSG | (mode << 1) | frag));
    pl_wr_u8(wr, channel);
    pl_wr_varint(wr, seq);
}

int
pl_frame_encode_msg(pl_wr *wr, uint8_t mode, uint8_t channel, uint64_t seq,
                    const uint8_t *data, size_t len)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (mode > 3 || seq > PL_VARINT_MAX || (uint64_t)len > PL_VARINT_MAX ||
        (data == NULL && len > 0)) {
        return PARLEY_EINVAL;
    }
    write_msg_head(wr, mode, 0, channel, seq);
    pl_wr_varint(wr, len);
    pl_wr_bytes(wr, data, len);
    return pl_wr_finish(wr, start);
}

int
pl_frame_encode_frag(pl_wr *wr, uint8_t mode, uint8_t channel, uint64_t seq,
                     uint64_t total_len, uint64_t offset, const uint8_t *data,
                     size_t len)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (mode > 3 || seq > PL_VARINT_MAX || total_len > PL_VARINT_MAX ||
        total_len == 0 || len == 0 || data == NULL || offset > total_len ||
        (uint64_t)len > total_len - offset) {
        return PARLEY_EINVAL;
    }
    write_msg_head(wr, mode, PL_FRAME_MSG_FRAG_BIT, channel, seq);
    pl_wr_varint(wr, total_len);
    pl_wr_varint(wr, offset);
    pl_wr_varint(wr, len);
    pl_wr_bytes(wr, data, len);
    return pl_wr_finish(wr, start);
}

static int
encode_msg_frame(pl_wr *wr, const pl_frame *f)
{
    if (f->u.msg.frag) {
        return pl_frame_encode_frag(
            wr, f->u.msg.mode, f->u.msg.channel, f->u.msg.seq,
            f->u.msg.total_len, f->u.msg.offset, f->u.msg.data, f->u.msg.len);
    }
    return pl_frame_encode_msg(wr, f->u.msg.mode, f->u.msg.channel,
                               f->u.msg.seq, f->u.msg.data, f->u.msg.len);
}

int
pl_frame_encode(pl_wr *wr, const pl_frame *f)
{
    size_t start = wr->off, n = 0;
    int rc;
    switch (f->type) {
    case PL_FRAME_PADDING:
        return f->u.padding.len == 0
                   ? PARLEY_EINVAL
                   : pl_frame_encode_padding(wr, f->u.padding.len);
    case PL_FRAME_PING:
        return pl_frame_encode_ping(wr);
    case PL_FRAME_ACK:
        if (f->u.ack.n > PL_ACK_MAX_RANGES) {
            return PARLEY_EINVAL;
        }
        rc = pl_frame_encode_ack(wr, f->u.ack.r, f->u.ack.n, f->u.ack.delay_us,
                                 &n);
        if (rc == PARLEY_OK && n < f->u.ack.n) {
            wr->off = start;
            rc = PARLEY_ENOBUFS;
        }
        return rc;
    case PL_FRAME_DISCONNECT:
        return pl_frame_encode_disconnect(wr, f->u.disconnect.reason,
                                          f->u.disconnect.code);
    case PL_FRAME_WINDOW:
        return pl_frame_encode_window(wr, f->u.window.bytes);
    case PL_FRAME_MSG:
        return encode_msg_frame(wr, f);
    default:
        return PARLEY_EINVAL;
    }
}

/* ---- sizes ------------------------------------------------------------- */

size_t
pl_frame_msg_size(uint64_t seq, size_t len)
{
    size_t ls = pl_varint_len(seq), ll = pl_varint_len(len);
    if (ls == 0 || ll == 0) {
        return 0;
    }
    return 2 + ls + ll + len;
}

size_t
pl_frame_frag_header_size(uint64_t seq, uint64_t total_len, uint64_t offset,
                          size_t len)
{
    size_t a = pl_varint_len(seq), b = pl_varint_len(total_len);
    size_t c = pl_varint_len(offset), d = pl_varint_len(len);
    if (a == 0 || b == 0 || c == 0 || d == 0) {
        return 0;
    }
    return 2 + a + b + c + d;
}

size_t
pl_frame_frag_fit(uint64_t seq, uint64_t total_len, uint64_t offset,
                  size_t space)
{
    /* Try each size of the length varint; keep the largest payload. */
    static const size_t vlen[4] = {1, 2, 4, 8};
    size_t base = pl_frame_frag_header_size(seq, total_len, offset, 0);
    if (base == 0 || offset >= total_len) {
        return 0;
    }
    base -= 1; /* the length varint is accounted for below */
    uint64_t left = total_len - offset, best = 0;
    for (size_t i = 0; i < 4; i++) {
        if (space <= base + vlen[i]) {
            break;
        }
        uint64_t fit = space - base - vlen[i];
        uint64_t vmax = (UINT64_C(1) << (8 * vlen[i] - 2)) - 1;
        fit = fit < vmax ? fit : vmax;
        fit = fit < left ? fit : left;
        best = fit > best ? fit : best;
    }
    return (size_t)best;
}

size_t
pl_frame_ack_size(const pl_ack_range *r, size_t n, uint64_t delay_us)
{
    n = n < PL_ACK_MAX_RANGES ? n : PL_ACK_MAX_RANGES;
    if (!ack_ranges_valid(r, n) || delay_us > PL_VARINT_MAX) {
        return 0;
    }
    size_t size = ack_head_size(r, delay_us);
    for (size_t i = 1; i < n; i++) {
        size += ack_pair_size(r, i);
    }
    return size;
}

int
pl_frame_is_ack_eliciting(uint8_t type)
{
    return type == PL_FRAME_PING || type == PL_FRAME_DISCONNECT ||
           type == PL_FRAME_WINDOW ||
           (type >= PL_FRAME_MSG && type <= PL_FRAME_MSG_LAST);
}
