/*
 * Records of the packets we sent, by packet number, and of the message
 * pieces (chunks) each carried, kept until the packet is acknowledged or
 * declared lost. Two growable rings: packet numbers are dense, so a
 * packet's record is found by subtraction.
 */
#ifndef PL_CORE_SENT_H
#define PL_CORE_SENT_H

#include <stddef.h>
#include <stdint.h>

struct pl_msg;

/* A piece of a reliable message carried by one packet. */
typedef struct pl_chunk {
    struct pl_msg *msg;
    uint32_t off, len;
} pl_chunk;

enum {
    PL_SENT_ELICITING = 0x01, /* ack-eliciting, counted in flight */
    PL_SENT_ACKED = 0x02,
    PL_SENT_LOST = 0x04,
    PL_SENT_HAS_ACK = 0x08,     /* carried an ACK frame (ack_largest) */
    PL_SENT_HAS_WINDOW = 0x10,  /* carried a WINDOW frame */
    PL_SENT_HAS_DISC = 0x20,    /* carried a DISCONNECT frame */
    PL_SENT_PROBE = 0x40,       /* sent as a probe, beyond the window */
    PL_SENT_CWND_LIMITED = 0x80 /* the window was nearly full at send */
};

typedef struct pl_sent_pkt {
    uint64_t time;           /* when sent */
    uint64_t ack_largest;    /* PL_SENT_HAS_ACK: the ACK's largest */
    uint64_t delivered;      /* connection's delivered bytes at send */
    uint64_t delivered_time; /* and when they were last counted */
    uint64_t first_sent_time;
    uint64_t chunk_first; /* absolute index in the chunk ring */
    uint32_t nchunks;
    uint32_t size; /* UDP payload bytes */
    uint8_t flags;
} pl_sent_pkt;

typedef struct pl_sent {
    pl_sent_pkt *pkts;
    size_t cap, n;    /* ring capacity (power of two) and records held */
    uint64_t base_pn; /* packet number of the oldest record */
    pl_chunk *chunks;
    size_t ccap;          /* power of two */
    uint64_t cbase, cend; /* absolute chunk indices held: [cbase, cend) */
    /* Loss-detection state (RFC 9002 appendix A). */
    int has_acked;
    uint64_t largest_acked;
    uint64_t bytes_in_flight;
    uint64_t eliciting_in_flight; /* packets */
    uint64_t last_eliciting_time;
    uint64_t loss_time; /* 0: no time-threshold timer */
} pl_sent;

void pl_sent_init(pl_sent *s);
void pl_sent_free(pl_sent *s);

/* The number the next packet gets. */
static inline uint64_t
pl_sent_next_pn(const pl_sent *s)
{
    return s->base_pn + s->n;
}

/* Makes room for one more record, so that pl_sent_push cannot fail.
   PARLEY_OK or PARLEY_ENOMEM. */
int pl_sent_reserve(pl_sent *s);

/* Appends a chunk for the packet being built. PARLEY_OK or ENOMEM. */
int pl_sent_add_chunk(pl_sent *s, struct pl_msg *msg, uint32_t off,
                      uint32_t len);
/* Drops chunks appended since end (a packet that was not sent). */
void pl_sent_rewind_chunks(pl_sent *s, uint64_t end);

/*
 * Records the packet just built: its chunks are those appended since
 * chunk_first. Returns the record (its number is pl_sent_next_pn before
 * the call) or NULL on ENOMEM (never after pl_sent_reserve). Counts it in
 * flight when eliciting.
 */
pl_sent_pkt *pl_sent_push(pl_sent *s, uint64_t now, uint32_t size,
                          uint8_t flags, uint64_t chunk_first);

/* The record of pn, or NULL when it is not held. */
pl_sent_pkt *pl_sent_get(const pl_sent *s, uint64_t pn);

/* The chunk at absolute index i (i in [cbase, cend)). */
static inline pl_chunk *
pl_sent_chunk(const pl_sent *s, uint64_t i)
{
    return &s->chunks[i & (s->ccap - 1)];
}

/* Forgets the finished (acked or lost) records at the front. */
void pl_sent_pop(pl_sent *s);

#endif
