/*
 * Symmetric RTP (RFC 4961) and NAT latching, with the socket-address
 * helpers it needs. A phone behind NAT signals a private address in SDP,
 * so RTP to it must go where its packets come from. Learning the source
 * from packets is also how media gets hijacked ("RTP bleed"): one packet
 * from a stranger used to take a leg and all the other phone's audio with
 * it. So a source is learnt only
 *   - at once when it is exactly the signalled (SDP) address, while the
 *     window is open (the phone is not behind NAT);
 *   - else after probation: LATCH_PROBATION packets in a row from it with
 *     one SSRC, consecutive sequence numbers and a payload type the leg
 *     negotiated (Asterisk's strictrtp since CVE-2017-14099). One source
 *     is on probation at a time; a source on the SIP peer's host takes
 *     the place of one that is not, and a candidate silent for
 *     LATCH_CAND_STALE_MS gives it up, so a stray packet cannot block the
 *     phone. Packets on probation are dropped, never relayed;
 *   - once latched, another source is considered only when the latched
 *     one has been quiet for LATCH_QUIET_MS (the NAT moved it), and after
 *     the window closed only with the latched SSRC (the same stream);
 *     except that a source on the SIP peer's host, passing probation,
 *     takes the leg back from a source on another host at any time.
 * RTCP has no sequence to check: its socket follows the host of the
 * leg's latched RTP source (or the signalled address). The window opens
 * when the call connects or a re-INVITE changes the signalled address,
 * and closes once a source is latched and either a few packets came from
 * it or a couple of seconds passed; until something is latched it stays
 * open, so a phone that starts late (or a long early-media ring) still
 * gets audio. All of this runs per packet: no allocation, a few compares.
 */
#include "../media_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

bool media_sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       x->sin6_scope_id == y->sin6_scope_id &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

socklen_t media_sa_len(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (a->ss_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

uint16_t media_sa_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)a)->sin6_port);
	return 0;
}

void media_sa_set_port(struct sockaddr_storage *a, uint16_t port)
{
	if (a->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)a)->sin_port = htons(port);
	else if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)a)->sin6_port = htons(port);
}

const char *media_sa_fmt(const struct sockaddr_storage *a, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (a->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)a)->sin_addr,
			  host, sizeof(host));
		snprintf(buf, cap, "%s:%u", host, media_sa_port(a));
	} else if (a->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			  host, sizeof(host));
		snprintf(buf, cap, "[%s]:%u", host, media_sa_port(a));
	} else {
		snprintf(buf, cap, "none");
	}
	return buf;
}

bool media_sa_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return false;
}

void latch_open(struct latch *l, uint64_t now, uint32_t ms, uint32_t pkts)
{
	l->open = true;
	l->until = now + ms;
	l->left = pkts ? pkts : 1;
}

void latch_reset(struct latch *l)
{
	l->latched = false;
	l->ssrc = 0;
	memset(&l->addr, 0, sizeof(l->addr));
	l->cand_n = 0;
	memset(&l->cand, 0, sizeof(l->cand));
}

/* One more packet accepted from the latched source while open. */
static void window_count(struct latch *l, uint64_t now)
{
	if (l->left)
		l->left--;
	if (l->left == 0 || now >= l->until)
		l->open = false;
}

static bool has(const struct sockaddr_storage *a)
{
	return a && a->ss_family;
}

static bool pt_ok(const struct latch_hint *h, uint8_t pt)
{
	const uint32_t *m = h->pts;
	if (!m || !(m[0] | m[1] | m[2] | m[3]))
		return true;
	return m[(pt >> 5) & 3] >> (pt & 31) & 1u;
}

static enum latch_res take(struct latch *l, const struct latch_pkt *p, uint64_t now)
{
	memcpy(&l->addr, p->src, sizeof(l->addr));
	l->ssrc = p->ssrc;
	l->latched = true;
	l->last = now;
	l->cand_n = 0;
	if (l->open)
		window_count(l, now);
	return LATCH_NEW;
}

/* Puts p's source on probation or advances it; true when p completes
 * it. */
static bool probe(struct latch *l, const struct latch_pkt *p, const struct latch_hint *h,
		  uint64_t now)
{
	bool pref = has(h->peer) && media_sa_same_host(h->peer, p->src);
	if (!l->cand_n || !media_sa_equal(&l->cand, p->src)) {
		/* the place is a live candidate's unless this source is
		 * the SIP peer's host and the candidate is not */
		bool live = l->cand_n && now - l->cand_last < LATCH_CAND_STALE_MS;
		if ((live && !(pref && !l->cand_pref)) || !pt_ok(h, p->pt))
			return false;
		memcpy(&l->cand, p->src, sizeof(l->cand));
		l->cand_pref = pref;
		l->cand_n = 0;
	}
	/* probation is packets in quick succession: a candidate that
	 * paused starts over (a stranger's stray packets never add up) */
	if (l->cand_n && now - l->cand_last >= LATCH_CAND_STALE_MS)
		l->cand_n = 0;
	l->cand_last = now;
	if (!pt_ok(h, p->pt))
		return false; /* not counted, not a reason to start over */
	if (l->cand_n && (p->ssrc != l->cand_ssrc || p->seq != l->cand_seq))
		l->cand_n = 0; /* a gap or another stream: start over */
	l->cand_ssrc = p->ssrc;
	l->cand_seq = (uint16_t)(p->seq + 1);
	l->cand_n++;
	return l->cand_n >= LATCH_PROBATION;
}

static enum latch_res check_rtcp(struct latch *l, const struct latch_pkt *p,
				 const struct latch_hint *h, uint64_t now)
{
	bool trusted = (has(h->sig) && media_sa_equal(h->sig, p->src)) ||
		       (has(h->rtp) && media_sa_same_host(h->rtp, p->src));
	if (!trusted)
		return LATCH_DROP;
	/* a second port on the trusted host replaces a live one only when
	 * the RTP moved away from it, or it went quiet */
	if (l->latched && has(h->rtp) && media_sa_same_host(h->rtp, &l->addr) &&
	    now - l->last < LATCH_QUIET_MS)
		return LATCH_DROP;
	return take(l, p, now);
}

enum latch_res latch_check(struct latch *l, const struct latch_pkt *p,
			   const struct latch_hint *h, uint64_t now)
{
	if (l->latched && media_sa_equal(&l->addr, p->src)) {
		/* the latched phone may change SSRC (hold, re-INVITE); the
		 * new one is what a NAT move would carry from now on */
		l->ssrc = p->ssrc;
		l->last = now;
		if (l->open)
			window_count(l, now);
		return LATCH_OK;
	}
	if (!l->latched && !l->open)
		return LATCH_DROP; /* not connected yet */
	if (p->rtcp)
		return check_rtcp(l, p, h, now);
	if (l->open && has(h->sig) && media_sa_equal(h->sig, p->src))
		return take(l, p, now);
	/* latched to a stranger's host while the SIP peer's host now
	 * sends: it may win it back by probation alone (a stranger who got
	 * through probation first does not keep the leg) */
	bool upgrade = l->latched && has(h->peer) && media_sa_same_host(h->peer, p->src) &&
		       !media_sa_same_host(h->peer, &l->addr);
	if (l->latched && !upgrade) {
		if (now - l->last < LATCH_QUIET_MS)
			return LATCH_DROP; /* the latched source is still talking */
		if (!l->open && p->ssrc != l->ssrc)
			return LATCH_DROP; /* mid-call only the same stream moves */
	}
	return probe(l, p, h, now) ? take(l, p, now) : LATCH_DROP;
}
