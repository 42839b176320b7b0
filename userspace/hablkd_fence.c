// SPDX-License-Identifier: GPL-2.0
/* hablkd_fence.c - a data node's fence-peer handler: started for a frozen primary
 * apart from its peer, reaped, killed when it hangs, retried when it fails. */
#define _GNU_SOURCE		/* closefrom() */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/wait.h>
#include "hablkd.h"

#define FENCE_TIMEOUT_MS	60000	/* a fence-peer handler running longer has failed */
#define FENCE_RETRY_MS		10000	/* and is run again after this */

/* In the child: HANDLER RES PEER, with HABLK_* in the environment (docs/hablkd.8). */
static void run_handler(const struct hablkd_res *c, const struct hablk_node *peer, uint64_t now)
{
	char addr[HABLK_ADDRSTRLEN], ctl[HABLK_ADDRSTRLEN], id[16];

	hablk_addr_format(&peer->addr, peer->addr_len, addr, sizeof(addr));
	hablk_addr_format(&peer->control, peer->control_len, ctl, sizeof(ctl));
	snprintf(id, sizeof(id), "%u", peer->id);
	closefrom(3);	/* not our sockets, not libnl's */
	setsid();
	setenv("HABLK_RESOURCE", c->r->name, 1);
	setenv("HABLK_NODE", c->self->name, 1);
	setenv("HABLK_PEER", peer->name, 1);
	setenv("HABLK_PEER_ID", id, 1);
	setenv("HABLK_PEER_ADDRESS", addr, 1);
	setenv("HABLK_PEER_CONTROL", ctl, 1);
	setenv("HABLK_ARBITER", c->arb < 0 ? "none" :
	       hq_alive(&c->q, c->arb, now) ? "reachable" : "unreachable", 1);
	execl(c->r->fence_peer, c->r->fence_peer, c->r->name, peer->name, (char *)NULL);
	_exit(127);
}

/*
 * Exit 0: the peer is fenced. Anything else, or running longer than
 * FENCE_TIMEOUT_MS: it is not, and I/O stays frozen.
 */
void hablkd_fence_start(struct hablkd_res *c, uint64_t now)
{
	const struct hablk_node *peer = hablkd_node(c, c->peer);
	struct hablkd_fence *f = &c->fence;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		run_handler(c, peer, now);
	if (pid < 0) {
		snprintf(f->why, sizeof(f->why), "fork: %s", strerror(errno));
		f->state = HABLKD_FENCE_FAILED;
		f->at = now + FENCE_RETRY_MS;
		return;
	}
	hablkd_log(LOG_NOTICE, "%s: fencing %s: running %s", c->r->name, peer->name,
		   c->r->fence_peer);
	f->state = HABLKD_FENCE_RUNNING;
	f->pid = pid;
	f->at = now;
}

static void reap(struct hablkd_res *c, uint64_t now)
{
	struct hablkd_fence *f = &c->fence;
	int status;
	pid_t r = waitpid(f->pid, &status, WNOHANG);

	if (r == 0 && now - f->at < FENCE_TIMEOUT_MS)
		return;
	if (r == 0) {
		kill(-f->pid, SIGKILL);	/* its process group: setsid() */
		waitpid(f->pid, &status, 0);
		snprintf(f->why, sizeof(f->why), "hung: killed after %d s", FENCE_TIMEOUT_MS / 1000);
	} else if (r > 0 && WIFEXITED(status) && !WEXITSTATUS(status)) {
		f->state = HABLKD_FENCE_DONE;
		f->pid = 0;
		hablkd_log(LOG_NOTICE, "%s: the fence-peer handler fenced %s", c->r->name,
			   hablkd_node(c, c->peer)->name);
		return;
	} else if (r > 0 && WIFEXITED(status)) {
		snprintf(f->why, sizeof(f->why), "exit %d", WEXITSTATUS(status));
	} else {
		snprintf(f->why, sizeof(f->why), "killed by signal %d",
			 r > 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	hablkd_log(LOG_ERR, "%s: the fence-peer handler failed (%s): I/O stays frozen; again in %d s",
		   c->r->name, f->why, FENCE_RETRY_MS / 1000);
	f->state = HABLKD_FENCE_FAILED;
	f->pid = 0;
	f->at = now + FENCE_RETRY_MS;
}

void hablkd_fence_watch(struct hablkd_res *c, bool connected, uint64_t now)
{
	if (c->fence.pid)
		reap(c, now);
	if (connected && !c->fence.pid)
		c->fence.state = HABLKD_FENCE_NONE;
}

bool hablkd_fence_done(const struct hablkd_res *c)
{
	return c->fence.state == HABLKD_FENCE_DONE;
}

bool hablkd_fence_busy(const struct hablkd_res *c, uint64_t now)
{
	return c->fence.state == HABLKD_FENCE_RUNNING ||
	       (c->fence.state == HABLKD_FENCE_FAILED && now < c->fence.at);
}

void hablkd_fence_describe(const struct hablkd_res *c, char *buf, size_t len)
{
	const struct hablkd_fence *f = &c->fence;
	const char *s;

	if (f->state == HABLKD_FENCE_RUNNING)
		s = "fence-peer handler running";
	else if (!c->data.up || !c->data.st.suspended)
		s = f->state == HABLKD_FENCE_DONE ? "peer fenced" : "none";
	else if (f->state == HABLKD_FENCE_FAILED)
		s = NULL;
	else if (c->data.told_quorum == 1)
		s = "resuming";
	else
		s = c->arb >= 0 ? "frozen until quorum (the arbiter's vote)" :
				  "frozen until the peer returns";
	if (s)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "frozen: fence-peer handler failed (%s)", f->why);
}
