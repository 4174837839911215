/*
 * Media anchoring: rewrites the other leg's SDP so that this leg's peer
 * sends its media to Hookflash (see sdp_anchor in sdp.h for what is kept
 * and what is dropped), and the o= handling every SDP we send shares with
 * sdp_answer (RFC 3264 section 8: one o= identity per leg, its version
 * raised only when what we say changes).
 */
#include "sdp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- o= and c= of what we send ----------------------------------------- */

/* Compares the bodies d and prev would print as (d carrying prev's o=). */
static int same_body(const struct sdp_session *d, const struct sdp_session *prev, bool *same)
{
	struct sbuf x, y;
	sbuf_init(&x);
	sbuf_init(&y);
	int err = sdp_print(&x, d);
	if (!err && sdp_print(&y, prev))
		*same = false; /* an unprintable prev cannot be what we sent */
	else if (!err)
		*same = x.len == y.len && memcmp(x.p, y.p, x.len) == 0;
	sbuf_free(&x);
	sbuf_free(&y);
	return err;
}

int sdp_draft_local(struct sdp_session *d, const struct sdp_local *loc)
{
	struct pl addr = pl_from(loc->addr), a, mc;
	enum sdp_af af = sdp_addr_af(addr);
	if (!sdp_addr_split(af, addr, false, &a, &mc))
		return EINVAL;
	d->conn = (struct sdp_conn){ af, addr, PL_NULL };
	if (loc->name)
		d->name = pl_from(loc->name);

	if (!loc->prev) {
		d->origin.user = loc->user ? pl_from(loc->user) : PL("-");
		if (!sdp_is_nonws(d->origin.user))
			return EINVAL;
		d->origin.sess_id = loc->sess_id;
		d->origin.sess_version = loc->sess_version;
		d->origin.af = af;
		d->origin.addr = addr;
		return 0;
	}

	/* Same o= line as before; a new version only for a new description,
	 * so a refresh or an unchanged re-offer does not look like a change
	 * to the peer (RFC 3264 8, RFC 4317 2.5). */
	d->origin = loc->prev->origin;
	bool same = false;
	int err = same_body(d, loc->prev, &same);
	if (!err && !same)
		d->origin.sess_version++;
	return err;
}

/* --- anchoring --------------------------------------------------------- */

/* Attributes that describe the other leg's transport. A relay ends that
 * transport, so passing them on would send this leg's peer to addresses
 * and keys it cannot reach. */
static bool transport_attr(const struct sdp_attr *a)
{
	static const char *const names[] = {
		"candidate", "remote-candidates", "end-of-candidates",
		"fingerprint", "setup", "connection", "rtcp-mux-only",
	};
	if (a->name.l > 4 && strncasecmp(a->name.p, "ice-", 4) == 0)
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (pl_casestr(a->name, names[i]))
			return true;
	/* BUNDLE puts several m= lines on one port pair; we give each its own. */
	return pl_casestr(a->name, "group") && a->value.l >= 6 &&
	       strncasecmp(a->value.p, "BUNDLE", 6) == 0;
}

static void drop_transport_attrs(struct sdp_attr *attrs, size_t *n)
{
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (!transport_attr(&attrs[i]))
			attrs[k++] = attrs[i];
	*n = k;
}

/* What the media relay forwards: RTP in any of its UDP profiles (SRTP
 * packets pass unchanged), and plain UDP (T.38 over UDPTL). Not TCP, not
 * DTLS (its handshake needs the fingerprint we drop). */
static bool relayable(struct pl proto)
{
	static const char *const ok[] = {
		"RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF", "udptl", "udp",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (pl_casestr(proto, ok[i]))
			return true;
	return false;
}

/* c=0.0.0.0 asks not to be sent to (RFC 3264 8.4); our own address will
 * replace it, so say the same with the direction instead. */
static enum sdp_dir without_recv(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDRECV: return SDP_SENDONLY;
	case SDP_RECVONLY: return SDP_INACTIVE;
	default: return d;
	}
}

int sdp_anchor(struct sdp_session **out, const struct sdp_session *in,
	       const struct sdp_local *loc)
{
	if (!out || !in || !loc || !loc->addr || in->nmedia > SDP_MAX_MEDIA ||
	    (in->nmedia && (!loc->ports || loc->nports < in->nmedia)))
		return EINVAL;
	struct sdp_session *d = sdp_draft(in);
	if (!d)
		return ENOMEM;

	d->key = PL_NULL;
	drop_transport_attrs(d->attrs, &d->nattrs);
	for (size_t i = 0; i < d->nmedia; i++) {
		struct sdp_media *m = &d->media[i];
		const struct sdp_media *im = &in->media[i];
		bool null = sdp_conn_is_null(sdp_media_conn(in, im));

		memset(&m->conn, 0, sizeof(m->conn));
		m->key = PL_NULL;
		m->has_rtcp = false;
		m->rtcp_port = 0;
		memset(&m->rtcp_conn, 0, sizeof(m->rtcp_conn));
		m->rtcp_mux = false;
		if (!loc->keep_crypto)
			m->ncrypto = 0;
		drop_transport_attrs(m->attrs, &m->nattrs);

		m->nports = 1;
		if (im->port == 0 || loc->ports[i] == 0 || !relayable(im->proto)) {
			m->port = 0;
			continue;
		}
		m->port = loc->ports[i];
		if (null)
			m->dir = without_recv(sdp_direction_of(in, im));
	}
	int err = sdp_draft_local(d, loc);
	return sdp_draft_finish(out, d, err);
}
