/*
 * Symmetric RTP (RFC 4961) and NAT latching, with the socket-address
 * helpers it needs. A phone behind NAT signals a private address in SDP,
 * so RTP to it must go where its packets come from. Learning the source
 * from packets is also how media gets hijacked, so learning is confined to
 * a window: it opens when the call connects or a re-INVITE changes the
 * signalled address, and closes once a source is latched and either a few
 * packets have come from it or a couple of seconds have passed. While the
 * window is open:
 *   - the first valid packet latches its source;
 *   - a packet from another source re-latches only when it carries the
 *     latched SSRC (the same stream, moved by a NAT rebinding) or comes
 *     from exactly the signalled address (the phone was not behind NAT
 *     after all, and someone else got in first);
 *   - anything else is dropped.
 * After it closes only the latched source is heard. Until something is
 * latched the window stays open, so a phone that starts late (or a long
 * early-media ring) still gets audio.
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
}

/* One more packet accepted from the latched source while open. */
static void window_count(struct latch *l, uint64_t now)
{
	if (l->left)
		l->left--;
	if (l->left == 0 || now >= l->until)
		l->open = false;
}

enum latch_res latch_check(struct latch *l, const struct sockaddr_storage *src,
			   uint32_t ssrc, const struct sockaddr_storage *sig,
			   uint64_t now)
{
	if (l->latched && media_sa_equal(&l->addr, src)) {
		/* the latched phone may change SSRC (hold, re-INVITE); the
		 * new one is what a NAT move would carry from now on */
		l->ssrc = ssrc;
		if (l->open)
			window_count(l, now);
		return LATCH_OK;
	}
	if (!l->open)
		return LATCH_DROP;
	bool from_sig = sig && sig->ss_family && media_sa_equal(sig, src);
	if (l->latched && !from_sig && ssrc != l->ssrc)
		return LATCH_DROP;
	memcpy(&l->addr, src, sizeof(l->addr));
	l->ssrc = ssrc;
	l->latched = true;
	window_count(l, now);
	return LATCH_NEW;
}
