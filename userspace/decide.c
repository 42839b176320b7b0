// SPDX-License-Identifier: GPL-2.0
/* decide.c - a data node's quorum, thaw, fence and promotion decisions (decide.h). */
#include "decide.h"

void hablk_decide(const struct hablk_decide_in *in, struct hablk_decide_out *out)
{
	out->quorum = in->connected || in->granted || (!in->has_arbiter && in->fenced);
	out->thaw = out->quorum && in->suspended &&
		    (in->connected || !in->has_handler || in->fenced);
	out->fence = in->has_handler && !in->connected && in->primary && in->suspended &&
		     !in->fenced && !in->fence_busy && (!in->has_arbiter || in->granted);
	out->promote = in->auto_promote && in->granted && !in->connected && !in->peer_alive &&
		       !in->primary && in->uptodate && !in->told_outdated;
	out->outdate = in->told_outdated && !in->connected && in->uptodate &&
		       (!in->primary || in->two_primaries);
}
