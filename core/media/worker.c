/*
 * Media worker threads (see media_int.h): each runs its own loop and owns
 * the calls placed on it, their sockets and timers. This file is the
 * thread's life (start, stop, teardown of what is left) and the execution
 * of the commands the signalling thread posts; the packet path is relay.c.
 * Commands arrive through loop_post in the order they were made, so a
 * call's CREATE always precedes its other commands and DESTROY is last.
 */
#include "media_int.h"
#include "decode/jbuf.h"
#include "decode/dpath.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../base/log.h"

static void sock_close(struct media_worker *w, struct msock *s)
{
	if (s->fd < 0)
		return;
	loop_fd_del(w->loop, s->fd);
	close(s->fd);
	s->fd = -1;
}

/* Stops everything the call has on this worker: timers, watchers, sockets. */
static void call_close(struct media_worker *w, struct mcall *c)
{
	for (int i = 0; i < 2; i++) {
		loop_timer_cancel(&c->leg[i].timeout);
		sock_close(w, &c->leg[i].rtp);
		sock_close(w, &c->leg[i].rtcp);
	}
	dpath_free(c);
	c->connected = false;
}

void media_call_snapshot(const struct mcall *c, uint64_t now,
			 struct media_call_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < 2; i++) {
		const struct mleg *l = &c->leg[i];
		struct media_leg_stats *s = &st->leg[i];
		s->rx_packets = l->rx_packets;
		s->rx_bytes = l->rx_bytes;
		s->tx_packets = l->tx_packets;
		s->tx_bytes = l->tx_bytes;
		s->rx_dropped = l->rx_dropped;
		s->tx_dropped = l->tx_dropped;
		s->rtcp_rx = l->rtcp_rx;
		s->rtcp_tx = l->rtcp_tx;
		int64_t lost = rtp_stats_lost(&l->rx);
		s->lost = lost > 0 ? (uint64_t)lost : 0;
		s->jitter_ms = rtp_stats_jitter_ms(&l->rx);
		s->ssrc = l->rx.ssrc;
		s->latched = l->rtp.latch.latched;
		memcpy(&s->rtp_peer, l->rtp.latch.latched ? &l->rtp.latch.addr : &l->rtp.sig,
		       sizeof(s->rtp_peer));
		const struct jbuf *jb = c->proc ? c->proc->in[i].jb : NULL;
		struct jbuf_stats js;
		if (jb)
			jbuf_stats(jb, &js);
		if (jb && js.put) {
			s->decoded = true;
			s->jb_delay_ms = js.delay_ms;
			s->jb_max_delay_ms = js.max_delay_ms;
			s->jb_concealed = js.lost;
			s->jb_late = js.late;
			s->jb_dropped = js.dropped;
		}
	}
	if (c->connected_at)
		st->duration_ms = now - c->connected_at;
}

static void emit_error(struct mcall *c, unsigned leg, int err)
{
	struct mevent *e = media_event_new(c, MEDIA_EV_ERROR, leg);
	if (!e)
		return;
	e->ev.err = err;
	media_event_push(c->w->me, e);
}

void media_leg_open_windows(struct mleg *l, uint64_t now)
{
	const struct media_cfg *cfg = &l->call->w->me->cfg;
	latch_open(&l->rtp.latch, now, cfg->latch_ms, cfg->latch_pkts);
	latch_open(&l->rtcp.latch, now, cfg->latch_ms, cfg->latch_pkts);
}

static void leg_open(struct media_worker *w, struct mcall *c, struct mcmd *cmd)
{
	struct mleg *l = &c->leg[cmd->leg];
	l->rtp.fd = cmd->u.open.fd[0];
	l->rtcp.fd = cmd->u.open.fd[1];
	l->port = cmd->u.open.port;
	int err = loop_fd_add(w->loop, l->rtp.fd, EPOLLIN, relay_on_rtp, l);
	if (!err)
		err = loop_fd_add(w->loop, l->rtcp.fd, EPOLLIN, relay_on_rtcp, l);
	if (err) {
		/* the leg stays deaf; its sockets close with the call */
		log_err(MEDIA_TAG, "call %u leg %u: cannot watch port %u: %s", c->id,
			cmd->leg, l->port, strerror(err));
		emit_error(c, cmd->leg, err);
		return;
	}
	log_debug(MEDIA_TAG, "call %u leg %u: port %u on worker %u", c->id, cmd->leg,
		  l->port, w->idx);
}

/* Records a signalled address; true when it differs from the last one. */
static bool sock_set_sig(struct msock *s, const struct sockaddr_storage *sa)
{
	bool changed = !media_sa_equal(&s->sig, sa);
	memcpy(&s->sig, sa, sizeof(s->sig));
	return changed;
}

static void leg_set_remote(struct media_worker *w, struct mcall *c, struct mcmd *cmd)
{
	struct mleg *l = &c->leg[cmd->leg];
	const struct media_cfg *cfg = &w->me->cfg;
	const struct media_remote *r = &cmd->u.remote;
	bool rtp_moved = sock_set_sig(&l->rtp, &r->rtp);
	bool rtcp_moved = sock_set_sig(&l->rtcp, &r->rtcp);
	memcpy(&l->peer, &r->peer, sizeof(l->peer));
	memcpy(l->pts, r->pts, sizeof(l->pts));
	rtp_stats_set_clock(&l->rx, r->clock_rate);
	char a[64];
	log_debug(MEDIA_TAG, "call %u leg %u: remote %s%s", c->id, cmd->leg,
		  media_sa_fmt(&l->rtp.sig, a, sizeof(a)), rtp_moved ? "" : " (unchanged)");
	if (!leg_live(l))
		return;
	/* a re-INVITE moved the media: learn the source again, and give the
	 * new end a full timeout period to start sending */
	uint64_t now = loop_now(w->loop);
	if (rtp_moved) {
		latch_reset(&l->rtp.latch);
		latch_open(&l->rtp.latch, now, cfg->latch_ms, cfg->latch_pkts);
		l->last_rx = now;
		relay_watch(l);
	}
	if (rtcp_moved) {
		latch_reset(&l->rtcp.latch);
		latch_open(&l->rtcp.latch, now, cfg->latch_ms, cfg->latch_pkts);
	}
}

static void call_connect(struct media_worker *w, struct mcall *c)
{
	if (c->connected)
		return;
	uint64_t now = loop_now(w->loop);
	c->connected = true;
	if (!c->connected_at)
		c->connected_at = now; /* or since a leg started (an app's) */
	for (int i = 0; i < 2; i++) {
		struct mleg *l = &c->leg[i];
		media_leg_open_windows(l, now);
		l->last_rx = now;
		relay_watch(l);
	}
	/* "connected", not "relaying": whether the audio is relayed or
	 * transcoded is the call layer's line ("call N: relaying ...") */
	log_info(MEDIA_TAG, "call %u: legs %u <-> %u connected on worker %u", c->id,
		 c->leg[0].port, c->leg[1].port, w->idx);
}

/* An app's leg, live without the call being connected: its latching
 * window opens now (the phone was just answered, so its first packets
 * are on their way), and its RTP timeout runs from now. */
static void leg_start(struct media_worker *w, struct mcall *c, unsigned leg)
{
	struct mleg *l = &c->leg[leg];
	if (leg_live(l)) {
		l->started = true;
		return;
	}
	uint64_t now = loop_now(w->loop);
	l->started = true;
	if (!c->connected_at)
		c->connected_at = now;
	media_leg_open_windows(l, now);
	l->last_rx = now;
	relay_watch(l);
	log_info(MEDIA_TAG, "call %u leg %u: port %u started on worker %u", c->id, leg,
		 l->port, w->idx);
}

static void leg_direction(struct media_worker *w, struct mcall *c, unsigned leg,
			  enum media_dir dir)
{
	struct mleg *l = &c->leg[leg];
	if (l->dir == dir)
		return;
	log_info(MEDIA_TAG, "call %u leg %u: %s -> %s", c->id, leg,
		 media_dir_name(l->dir), media_dir_name(dir));
	l->dir = dir;
	if (dir == MEDIA_SENDRECV) {
		/* off hold: the phone gets a full period to resume */
		l->last_rx = loop_now(w->loop);
		l->timed_out = false;
	}
	relay_watch(l);
}

static void call_stats(struct media_worker *w, struct mcall *c)
{
	struct mevent *e = media_event_new(c, MEDIA_EV_STATS, 0);
	if (!e)
		return;
	media_call_snapshot(c, loop_now(w->loop), &e->ev.stats);
	media_event_push(w->me, e);
}

static void call_destroy(struct media_worker *w, struct mcall *c)
{
	media_call_snapshot(c, loop_now(w->loop), &c->done.ev.stats);
	call_close(w, c);
	list_remove(&w->calls, &c->le);
	const struct media_call_stats *st = &c->done.ev.stats;
	atomic_fetch_add_explicit(&w->lost, st->leg[0].lost + st->leg[1].lost,
				  memory_order_relaxed);
	log_info(MEDIA_TAG,
		 "call %u: destroyed after %llu ms; leg 0 rx %llu lost %llu jitter %.1f ms,"
		 " leg 1 rx %llu lost %llu jitter %.1f ms",
		 c->id, (unsigned long long)st->duration_ms,
		 (unsigned long long)st->leg[0].rx_packets,
		 (unsigned long long)st->leg[0].lost, st->leg[0].jitter_ms,
		 (unsigned long long)st->leg[1].rx_packets,
		 (unsigned long long)st->leg[1].lost, st->leg[1].jitter_ms);
	for (int i = 0; i < 2; i++)
		if (st->leg[i].decoded)
			log_info(MEDIA_TAG, "call %u leg %u: jitter buffer %u ms (at most %u),"
				 " %llu concealed, %llu late, %llu dropped", c->id, i,
				 st->leg[i].jb_delay_ms, st->leg[i].jb_max_delay_ms,
				 (unsigned long long)st->leg[i].jb_concealed,
				 (unsigned long long)st->leg[i].jb_late,
				 (unsigned long long)st->leg[i].jb_dropped);
	/* from here the call belongs to the signalling thread again */
	media_event_push(w->me, &c->done);
}

void media_worker_cmd(void *arg)
{
	struct mcmd *cmd = arg;
	struct media_worker *w = cmd->w;
	struct mcall *c = cmd->call;
	switch (cmd->op) {
	case CMD_CREATE:
		list_push_front(&w->calls, &c->le);
		break;
	case CMD_LEG_OPEN:
		leg_open(w, c, cmd);
		break;
	case CMD_SET_REMOTE:
		leg_set_remote(w, c, cmd);
		break;
	case CMD_CONNECT:
		call_connect(w, c);
		break;
	case CMD_LEG_START:
		leg_start(w, c, cmd->leg);
		break;
	case CMD_DIRECTION:
		leg_direction(w, c, cmd->leg, cmd->u.dir);
		break;
	case CMD_STATS:
		call_stats(w, c);
		break;
	case CMD_DESTROY:
		call_destroy(w, c);
		break;
	case CMD_QUIT:
		w->quit_done = true;
		loop_stop(w->loop);
		break;
	default:
		dpath_cmd(w, c, cmd);
		break;
	}
	free(cmd);
}

static void *worker_main(void *arg)
{
	struct media_worker *w = arg;
	char name[16];
	snprintf(name, sizeof(name), "hf-media%u", w->idx);
	pthread_setname_np(pthread_self(), name);

	int err = loop_run(w->loop);
	if (err)
		log_err(MEDIA_TAG, "worker %u: loop failed: %s", w->idx, strerror(err));
	/* loop_stop may have ended the loop between two iterations with
	 * QUIT and the commands before it still queued: run them */
	while (atomic_load(&w->quit_posted) && !w->quit_done)
		if (loop_run_once(w->loop, 100))
			break;
	/* the engine is going away: calls still here end without events
	 * (their memory is the engine's to free) */
	while (!list_empty(&w->calls)) {
		struct mcall *c = container_of(w->calls.head, struct mcall, le);
		call_close(w, c);
		list_remove(&w->calls, &c->le);
	}
	return NULL;
}

int media_worker_start(struct media_worker *w)
{
	w->bufs = malloc((size_t)RELAY_BATCH * RELAY_BUFSZ);
	w->obuf = malloc(RELAY_BUFSZ);
	if (!w->bufs || !w->obuf) {
		free(w->bufs);
		free(w->obuf);
		w->bufs = w->obuf = NULL;
		return ENOMEM;
	}
	loop_timer_init(&w->tick);
	/* signals belong to the signalling thread's signalfd */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int err = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(w->bufs);
		free(w->obuf);
		w->bufs = w->obuf = NULL;
		return err;
	}
	w->started = true;
	return 0;
}

void media_worker_stop(struct media_worker *w)
{
	if (!w->started)
		return;
	/* QUIT goes behind every command already posted, so all of them
	 * run (and their sockets are handed over) before the thread ends.
	 * loop_stop then wakes the worker at once: a post made from inside
	 * a loop handler only wakes its target when that handler's
	 * iteration ends, which the join below would wait for forever. */
	struct mcmd *cmd = calloc(1, sizeof(*cmd));
	if (cmd) {
		cmd->op = CMD_QUIT;
		cmd->w = w;
	}
	if (!cmd || loop_post(w->loop, media_worker_cmd, cmd)) {
		free(cmd);
		log_warn(MEDIA_TAG, "worker %u: stopping without running queued commands", w->idx);
	} else {
		atomic_store(&w->quit_posted, true);
	}
	loop_stop(w->loop);
	pthread_join(w->thread, NULL);
	w->started = false;
	free(w->bufs);
	free(w->obuf);
	w->bufs = w->obuf = NULL;
}
