// SPDX-License-Identifier: GPL-2.0
/*
 * chan.c - the lock manager's reliable, ordered channel between two hablkd
 * (chan.h): go-back-N over datagrams, with cumulative acks and sessions
 * bound to both runs.
 */
#include <string.h>
#include "chan.h"

void hablk_chan_init(struct hablk_chan *c, uint64_t my_boot)
{
	memset(c, 0, sizeof(*c));
	c->my_boot = my_boot;
	c->next_seq = 1;
	c->rto = HABLK_CHAN_RTO_MIN;
}

bool hablk_chan_peer(struct hablk_chan *c, uint64_t peer_boot)
{
	if (peer_boot == c->peer_boot)
		return false;
	c->peer_boot = peer_boot;
	/* a new session: numbers start again, nothing of the old one goes */
	c->next_seq = 1;
	c->acked = 0;
	c->received = 0;
	c->qhead = c->qlen = c->sent = 0;
	c->rto = HABLK_CHAN_RTO_MIN;
	c->rtx_at = 0;
	c->ack_due = false;
	return true;
}

int hablk_chan_queue(struct hablk_chan *c, const void *payload, size_t len)
{
	struct hablk_chan_item *it;

	if (len > HABLK_CHAN_MSG_MAX || c->qlen == HABLK_CHAN_QUEUE)
		return -1;
	it = &c->q[(c->qhead + c->qlen) % HABLK_CHAN_QUEUE];
	it->seq = c->next_seq++;
	it->len = (uint16_t)len;
	memcpy(it->data, payload, len);
	c->qlen++;
	return 0;
}

static void send_item(struct hablk_chan *c, const struct hablk_chan_item *it, bool again,
		      hablk_chan_send_fn send, void *ctx)
{
	struct hablk_chan_hdr h = {
		.boot = c->my_boot, .echo = c->peer_boot, .seq = it->seq, .ack = c->received,
	};

	send(ctx, &h, it->data, it->len, again);
	c->ack_due = false;	/* it carries the ack */
}

void hablk_chan_flush(struct hablk_chan *c, uint64_t now, hablk_chan_send_fn send, void *ctx)
{
	unsigned int i, before = c->sent;

	if (!c->peer_boot)
		return;		/* whom to: not known yet */
	if (c->qlen && c->rtx_at && now >= c->rtx_at) {
		/* go back: everything unacked again, in order */
		c->sent = 0;
		c->retransmits++;
		c->rto = c->rto * 2 > HABLK_CHAN_RTO_MAX ? HABLK_CHAN_RTO_MAX : c->rto * 2;
	}
	for (i = c->sent; i < c->qlen; i++)
		send_item(c, &c->q[(c->qhead + i) % HABLK_CHAN_QUEUE], i < before, send, ctx);
	if (c->sent < c->qlen)
		c->rtx_at = now + c->rto;
	c->sent = c->qlen;
	if (c->ack_due && now >= c->ack_at) {
		struct hablk_chan_hdr h = {
			.boot = c->my_boot, .echo = c->peer_boot, .seq = 0, .ack = c->received,
		};

		send(ctx, &h, NULL, 0, false);
		c->ack_due = false;
	}
}

/* The peer has every message up to @ack: drop them from the queue. */
static void take_ack(struct hablk_chan *c, uint64_t ack)
{
	bool progress = false;

	if (ack <= c->acked || ack >= c->next_seq)
		return;		/* old, or for something never sent */
	while (c->qlen && c->q[c->qhead].seq <= ack) {
		c->qhead = (c->qhead + 1) % HABLK_CHAN_QUEUE;
		c->qlen--;
		if (c->sent)
			c->sent--;
		progress = true;
	}
	c->acked = ack;
	if (progress) {
		c->rto = HABLK_CHAN_RTO_MIN;
		c->rtx_at = c->qlen ? c->rtx_at : 0;
	}
}

void hablk_chan_input(struct hablk_chan *c, const struct hablk_chan_hdr *h,
		      const uint8_t *payload, size_t len, uint64_t now,
		      hablk_chan_deliver_fn deliver, void *ctx)
{
	/* only this session: the peer's current run, talking to ours */
	if (!c->peer_boot || h->boot != c->peer_boot || h->echo != c->my_boot)
		return;
	take_ack(c, h->ack);
	if (!h->seq)
		return;
	if (!c->ack_due) {	/* even a duplicate: its ack may have been lost */
		c->ack_due = true;
		c->ack_at = now + HABLK_CHAN_ACK_DELAY;
	}
	if (h->seq != c->received + 1)
		return;		/* a duplicate, or after a gap: it comes again in order */
	c->received = h->seq;
	deliver(ctx, payload, len);
}

uint64_t hablk_chan_next_timer(const struct hablk_chan *c)
{
	uint64_t t = UINT64_MAX;

	if (!c->peer_boot)
		return UINT64_MAX;
	if (c->sent < c->qlen)
		return 0;	/* now */
	if (c->qlen && c->rtx_at)
		t = c->rtx_at;
	if (c->ack_due && c->ack_at < t)
		t = c->ack_at;
	return t;
}
