/*
 * The packet path of a media worker: RTP and RTCP read from one leg's
 * socket are validated, checked against the leg's latch, counted, and sent
 * on from the other leg's socket (symmetric RTP: each phone hears us from
 * the port it sends to) towards the other phone. Reads are recvmmsg
 * batches into buffers the worker allocated once; everything accepted from
 * one batch goes out in one sendmmsg, pointing at the same buffers, so a
 * packet costs no allocation, no copy and no lock, and a batch two system
 * calls. The RTP timeout of each leg lives here too, re-armed lazily: the
 * per-packet cost is storing the loop's time, and the timer only looks at
 * it when it fires.
 *
 * A call with processing state (c->proc: formats, SRTP, DTMF, apps; see
 * dpath.h) takes three hooks here: SRTP is removed before a packet is
 * parsed, dpath_rtp_in decides per RTP packet (payload type rewrite, DTMF,
 * jitter buffer, forward or not) and SRTP is added for the other leg.
 * Calls without it run exactly the old path.
 */
#include "../media_int.h"
#include "../decode/dpath.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "../../base/log.h"

/* Batches per wake-up per socket before giving the other sockets, timers
 * and commands their turn (epoll is level-triggered: the rest waits). */
#define MAX_ROUNDS 4
#define RELAY_ROOM 64 /* > SRTP_CTX_TRAILER + an MKI */

static void on_timeout(void *arg);

static uint32_t timeout_ms(const struct mleg *l)
{
	return l->call->w->me->cfg.rtp_timeout_ms;
}

void relay_watch(struct mleg *l)
{
	struct mcall *c = l->call;
	struct loop *loop = c->w->loop;
	if (!leg_live(l) || l->dir != MEDIA_SENDRECV || l->timed_out) {
		loop_timer_cancel(&l->timeout);
		return;
	}
	if (loop_timer_active(&l->timeout))
		return; /* on_timeout re-reads last_rx when it fires */
	uint64_t now = loop_now(loop), due = l->last_rx + timeout_ms(l);
	if (loop_timer_start(loop, &l->timeout, due > now ? due - now : 0, on_timeout, l))
		log_err(MEDIA_TAG, "call %u leg %u: no memory for the RTP timer", c->id, l->idx);
}

static void on_timeout(void *arg)
{
	struct mleg *l = arg;
	struct mcall *c = l->call;
	uint64_t now = loop_now(c->w->loop), due = l->last_rx + timeout_ms(l);
	if (now < due) {
		relay_watch(l);
		return;
	}
	l->timed_out = true;
	log_info(MEDIA_TAG, "call %u leg %u: no RTP for %llu ms", c->id, l->idx,
		 (unsigned long long)(now - l->last_rx));
	struct mevent *e = media_event_new(c, MEDIA_EV_RTP_TIMEOUT, l->idx);
	if (e)
		media_event_push(c->w->me, e);
}

/* Where packets for this socket's phone go: the learnt source, else the
 * signalled address, else nowhere yet. */
const struct sockaddr_storage *relay_target(const struct msock *s)
{
	if (s->latch.latched)
		return &s->latch.addr;
	return s->sig.ss_family ? &s->sig : NULL;
}

static void report_latch(struct mleg *x, const struct sockaddr_storage *src, bool rtcp)
{
	struct mcall *c = x->call;
	char a[64];
	log_info(MEDIA_TAG, "call %u leg %u: %s latched to %s", c->id, x->idx,
		 rtcp ? "RTCP" : "RTP", media_sa_fmt(src, a, sizeof(a)));
	struct mevent *e = media_event_new(c, MEDIA_EV_LATCHED, x->idx);
	if (!e)
		return;
	e->ev.rtcp = rtcp;
	memcpy(&e->ev.addr, src, sizeof(e->ev.addr));
	media_event_push(c->w->me, e);
}

/* The kernel's receive time (SO_TIMESTAMPNS, CLOCK_REALTIME), or now. */
static uint64_t arrival_us(struct msghdr *m)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		}
	}
	return media_realtime_us();
}

static int recv_batch(struct media_worker *w, int fd)
{
	for (int i = 0; i < RELAY_BATCH; i++) {
		w->iov[i].iov_base = w->bufs + (size_t)i * RELAY_BUFSZ;
		/* room behind the datagram for an SRTP trailer */
		w->iov[i].iov_len = RELAY_BUFSZ - RELAY_ROOM;
		w->rx[i].msg_hdr = (struct msghdr){
			.msg_name = &w->from[i],
			.msg_namelen = sizeof(w->from[i]),
			.msg_iov = &w->iov[i],
			.msg_iovlen = 1,
			.msg_control = w->ctl[i],
			.msg_controllen = RELAY_CTLSZ,
		};
	}
	return recvmmsg(fd, w->rx, RELAY_BATCH, MSG_DONTWAIT, NULL);
}

/* Sends tx[0..k); returns how many went out and adds their bytes. A full
 * socket buffer drops the rest (late audio is useless); a datagram the
 * kernel refuses (unreachable, bad address) is skipped. */
static unsigned send_batch(int fd, struct mmsghdr *tx, unsigned k, uint64_t *bytes)
{
	unsigned done = 0, sent = 0;
	while (done < k) {
		int r = sendmmsg(fd, tx + done, k - done, MSG_DONTWAIT);
		if (r > 0) {
			for (unsigned j = done; j < done + (unsigned)r; j++)
				*bytes += tx[j].msg_len;
			sent += (unsigned)r;
			done += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			done++;
		}
	}
	return sent;
}

/* One batch of n datagrams read from leg x's RTP or RTCP socket. */
static void relay_batch(struct media_worker *w, struct mleg *x, int n, bool rtcp)
{
	struct mcall *c = x->call;
	struct mleg *y = &c->leg[!x->idx];
	struct msock *xs = rtcp ? &x->rtcp : &x->rtp;
	struct msock *ys = rtcp ? &y->rtcp : &y->rtp;
	const struct sockaddr_storage *dst = relay_target(ys);
	socklen_t dlen = dst ? media_sa_len(dst) : 0;
	uint64_t now = loop_now(w->loop);
	/* RTCP flows whatever the direction (RFC 3264 5.1); RTP only from a
	 * leg that may send to one that may receive */
	bool fwd = rtcp || (dir_sends(x->dir) && dir_receives(y->dir));
	unsigned k = 0, accepted = 0;

	/* what the signalling said about this phone, for the latch */
	const struct latch_hint hint = {
		.sig = &xs->sig,
		.peer = &x->peer,
		.pts = x->pts,
		.rtp = rtcp && x->rtp.latch.latched ? &x->rtp.latch.addr : NULL,
	};

	struct dpath *mp = c->proc;
	/* a started leg, or one with a format, is listened to before the
	 * call is connected (an app's caller: digits, echo, recording); only
	 * a connected call relays */
	bool listen = c->connected || x->started || (mp && mp->has_fmt[x->idx]);

	for (int i = 0; i < n; i++) {
		if (!listen || (w->rx[i].msg_hdr.msg_flags & MSG_TRUNC)) {
			x->rx_dropped++;
			continue;
		}
		/* only well-formed packets may teach the latch (after its
		 * probation), and only what the latch accepts counts in the
		 * stats or is relayed */
		uint8_t *p = w->iov[i].iov_base;
		size_t len = w->rx[i].msg_len;
		struct rtp_hdr h;
		struct rtcp_info ri;
		/* SRTP first: its trailer hides RTP padding and RTCP lengths,
		 * and only authentic packets may move the latch */
		if (mp && !dpath_unprotect(x, p, &len, rtcp)) {
			x->rx_dropped++;
			continue;
		}
		if (rtcp ? rtcp_parse(&ri, p, len) : rtp_hdr_parse(&h, p, len)) {
			x->rx_dropped++;
			continue;
		}
		const struct latch_pkt lp = {
			.src = &w->from[i],
			.ssrc = rtcp ? ri.ssrc : h.ssrc,
			.seq = rtcp ? 0 : h.seq,
			.pt = rtcp ? 0 : h.pt,
			.rtcp = rtcp,
		};
		enum latch_res lr = latch_check(&xs->latch, &lp, &hint, now);
		if (lr == LATCH_DROP) {
			x->rx_dropped++;
			continue;
		}
		if (lr == LATCH_NEW)
			report_latch(x, &w->from[i], rtcp);
		accepted++;
		if (rtcp && ri.lsr) {
			x->sr_lsr = ri.lsr;
			x->sr_at_ms = now;
		}
		uint64_t arrival = 0;
		if (!rtcp) {
			x->rx_packets++;
			x->rx_bytes += len;
			arrival = arrival_us(&w->rx[i].msg_hdr);
			rtp_stats_update(&x->rx, &h, arrival);
		}
		bool go = fwd && c->connected;
		if (mp) {
			if (rtcp)
				go = go && dpath_rtcp_fwd(x);
			else
				go = dpath_rtp_in(x, &h, p, &len, arrival, go);
		}
		if (!go)
			continue;
		if (!dst) {
			y->tx_dropped++;
			continue;
		}
		if (mp && !dpath_protect(y, p, &len, RELAY_BUFSZ, rtcp)) {
			y->tx_dropped++;
			continue;
		}
		w->iov[i].iov_len = len;
		w->tx[k].msg_hdr = (struct msghdr){
			.msg_name = (void *)dst,
			.msg_namelen = dlen,
			.msg_iov = &w->iov[i],
			.msg_iovlen = 1,
		};
		k++;
	}

	if (rtcp) {
		x->rtcp_rx += accepted;
	} else if (accepted) {
		x->last_rx = now;
		if (x->timed_out) {
			/* media is back: watch for the next silence */
			x->timed_out = false;
			relay_watch(x);
		}
	}
	if (!k)
		return;
	uint64_t bytes = 0;
	unsigned sent = send_batch(ys->fd, w->tx, k, &bytes);
	if (rtcp) {
		y->rtcp_tx += sent;
	} else {
		y->tx_packets += sent;
		y->tx_bytes += bytes;
		atomic_fetch_add_explicit(&w->relayed, sent, memory_order_relaxed);
	}
	y->tx_dropped += k - sent;
}

static void on_readable(struct mleg *x, int fd, bool rtcp)
{
	struct media_worker *w = x->call->w;
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int n = recv_batch(w, fd);
		if (n <= 0)
			return; /* EAGAIN; nothing else is reported on UDP */
		relay_batch(w, x, n, rtcp);
		if (n < RELAY_BATCH)
			return;
	}
}

void relay_on_rtp(int fd, uint32_t events, void *arg)
{
	(void)events;
	on_readable(arg, fd, false);
}

void relay_on_rtcp(int fd, uint32_t events, void *arg)
{
	(void)events;
	on_readable(arg, fd, true);
}
