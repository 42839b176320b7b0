/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chan.h - a reliable, ordered channel of small messages between two hablkd
 * (the lock manager's): sequence numbers, cumulative acks, retransmission
 * until acked, and sessions bound to both sides' boot ids, so that nothing
 * of an earlier run of either side is ever delivered. Pure: the caller
 * authenticates and carries the datagrams.
 */
#ifndef HABLK_CHAN_H
#define HABLK_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HABLK_CHAN_MSG_MAX	600	/* payload bytes of one message */
#define HABLK_CHAN_QUEUE	256	/* messages sent and not yet acked, at most */
#define HABLK_CHAN_RTO_MIN	20	/* ms before a message is sent again, at first */
#define HABLK_CHAN_RTO_MAX	1000	/* ... doubling up to this */
#define HABLK_CHAN_ACK_DELAY	5	/* ms an ack waits for a message to ride on */

/* One datagram's header, as the caller's codec carries it. */
struct hablk_chan_hdr {
	uint64_t boot;			/* the sender's run */
	uint64_t echo;			/* the receiver's run, as the sender knows it */
	uint64_t seq;			/* 0: an ack alone; else the message's number (from 1) */
	uint64_t ack;			/* every message up to this one was received */
};

struct hablk_chan_item {
	uint64_t seq;
	uint16_t len;
	uint8_t data[HABLK_CHAN_MSG_MAX];
};

struct hablk_chan {
	uint64_t my_boot;		/* our run */
	uint64_t peer_boot;		/* the peer's current run (from its heartbeats), 0: unknown */
	uint64_t next_seq;		/* the next new message's number */
	uint64_t acked;			/* the peer has every message up to this */
	uint64_t received;		/* we have every message of the peer up to this */
	struct hablk_chan_item q[HABLK_CHAN_QUEUE];	/* unacked, in order, a ring */
	unsigned int qhead, qlen;
	unsigned int sent;		/* of the queue, sent at least once since the last (re)send */
	uint64_t rto;			/* current retransmission timeout, ms */
	uint64_t rtx_at;		/* when the oldest unacked message goes again, 0: none */
	bool ack_due;			/* we received something: ack it */
	uint64_t ack_at;		/* ... alone, if no message of ours carried it by then */
	uint64_t retransmits;		/* for the status */
};

/*
 * The datagram to send: header and payload (len 0 for an ack alone); @again:
 * a message sent before and not acked in time (the caller may try every path).
 */
typedef void (*hablk_chan_send_fn)(void *ctx, const struct hablk_chan_hdr *h,
				   const uint8_t *payload, size_t len, bool again);
/* A message, delivered in order, exactly once per session. */
typedef void (*hablk_chan_deliver_fn)(void *ctx, const uint8_t *payload, size_t len);

void hablk_chan_init(struct hablk_chan *c, uint64_t my_boot);
/*
 * The peer's run, as its fresh heartbeats tell it. A new one starts a new
 * session (what was queued for the old one is dropped): returns true then,
 * and the caller's protocol starts over.
 */
bool hablk_chan_peer(struct hablk_chan *c, uint64_t peer_boot);
/* Queue a message; -1 if the queue is full or it is too long. */
int hablk_chan_queue(struct hablk_chan *c, const void *payload, size_t len);
/* Send what is new, what is due again, and an ack if one is due. */
void hablk_chan_flush(struct hablk_chan *c, uint64_t now, hablk_chan_send_fn send, void *ctx);
/*
 * An authentic datagram arrived: take its ack, deliver its message if it is
 * the next one. Datagrams of another run of either side are ignored. Its
 * ack goes with our next message, or alone HABLK_CHAN_ACK_DELAY ms after @now.
 */
void hablk_chan_input(struct hablk_chan *c, const struct hablk_chan_hdr *h,
		      const uint8_t *payload, size_t len, uint64_t now,
		      hablk_chan_deliver_fn deliver, void *ctx);
/* When hablk_chan_flush() has something to send again, or UINT64_MAX. */
uint64_t hablk_chan_next_timer(const struct hablk_chan *c);

#endif /* HABLK_CHAN_H */
