/*
 * Dialog state and in-dialog request building (see dialog.h). Values are
 * copied out of messages into fixed buffers: a dialog outlives the
 * messages that made it, and fixed sizes keep a leg to one allocation.
 * Too-long values are refused rather than cut, so a dialog is either
 * exact or not made.
 */
#include "dialog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "tsx.h"

static int copy(char *dst, size_t cap, struct pl s)
{
	if (s.l >= cap || (s.l && memchr(s.p, '\0', s.l)))
		return ENAMETOOLONG;
	if (s.l) /* an absent value is {NULL, 0}: memcpy/memchr want non-NULL */
		memcpy(dst, s.p, s.l);
	dst[s.l] = '\0';
	return 0;
}

/* A From/To value without its ;tag= parameter, so the dialog can print it
 * back with the right tag. Keeps every other parameter. */
static int copy_without_tag(char *dst, size_t cap, const struct sip_addr *a, struct pl value)
{
	if (!a->tag.p)
		return copy(dst, cap, value);
	/* tag.p points inside value: cut ";tag=VALUE" out */
	const char *start = a->tag.p - 4; /* "tag=" */
	while (start > value.p && start[-1] != ';')
		start--;
	if (start > value.p)
		start--; /* the ';' */
	const char *end = a->tag.p + a->tag.l;
	size_t head = (size_t)(start - value.p);
	size_t tail = (size_t)(value.p + value.l - end);
	if (head + tail >= cap)
		return ENAMETOOLONG;
	memcpy(dst, value.p, head);
	memcpy(dst + head, end, tail);
	dst[head + tail] = '\0';
	return 0;
}

static int copy_target(struct sip_dialog *d, const struct sip_msg *m)
{
	const struct sip_hdr *c = sip_msg_hdr(m, SIP_HDR_CONTACT);
	struct sip_addr a;
	if (!c || sip_addr_parse(&a, c->value) || a.star)
		return EBADMSG;
	return copy(d->remote_target, sizeof(d->remote_target), a.uri_raw);
}

/* Route set from Record-Route: as received for the UAS, reversed for the
 * UAC (12.1.1, 12.1.2). */
static int copy_routes(struct sip_dialog *d, const struct sip_msg *m, bool reverse)
{
	const struct sip_hdr *rr[32];
	size_t n = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE); h && n < 32;
	     h = sip_msg_hdr_next(m, SIP_HDR_RECORD_ROUTE, h))
		rr[n++] = h;
	struct sbuf b;
	sbuf_init(&b);
	for (size_t i = 0; i < n; i++) {
		const struct sip_hdr *h = rr[reverse ? n - 1 - i : i];
		sbuf_adds(&b, "Route: ");
		sbuf_addpl(&b, h->value);
		sbuf_adds(&b, "\r\n");
	}
	int err = b.err;
	if (!err)
		err = copy(d->routes, sizeof(d->routes), (struct pl){ b.p ? b.p : "", b.len });
	sbuf_free(&b);
	return err;
}

int sip_dialog_uas_init(struct sip_dialog *d, const struct sip_msg *invite,
			const struct sip_peer *from, const char *local_tag,
			const char *local_contact)
{
	memset(d, 0, sizeof(*d));
	const struct sip_hdr *fh = sip_msg_hdr(invite, SIP_HDR_FROM);
	const struct sip_hdr *th = sip_msg_hdr(invite, SIP_HDR_TO);
	if (!fh || !th)
		return EBADMSG;
	int err = copy(d->call_id, sizeof(d->call_id), invite->call_id);
	if (!err)
		err = copy(d->remote_tag, sizeof(d->remote_tag), invite->from.tag);
	if (!err)
		err = copy_without_tag(d->remote_hdr, sizeof(d->remote_hdr), &invite->from, fh->value);
	if (!err)
		err = copy_without_tag(d->local_hdr, sizeof(d->local_hdr), &invite->to, th->value);
	if (!err)
		err = copy_target(d, invite);
	if (!err)
		err = copy_routes(d, invite, false);
	if (err)
		return err;
	snprintf(d->local_tag, sizeof(d->local_tag), "%s", local_tag);
	snprintf(d->local_contact, sizeof(d->local_contact), "%s", local_contact);
	d->remote_cseq = invite->cseq.num;
	d->remote_cseq_set = true;
	d->local_cseq = 0; /* the first request we send takes 1 */
	d->peer = *from;
	return 0;
}

int sip_dialog_uac_init(struct sip_dialog *d, const char *call_id, const char *local_tag,
			const char *from_hdr, const char *to_hdr, const char *target,
			const struct sip_peer *peer, const char *local_contact)
{
	memset(d, 0, sizeof(*d));
	d->uac = true;
	if (copy(d->call_id, sizeof(d->call_id), pl_from(call_id)) ||
	    copy(d->local_tag, sizeof(d->local_tag), pl_from(local_tag)) ||
	    copy(d->local_hdr, sizeof(d->local_hdr), pl_from(from_hdr)) ||
	    copy(d->remote_hdr, sizeof(d->remote_hdr), pl_from(to_hdr)) ||
	    copy(d->remote_target, sizeof(d->remote_target), pl_from(target)) ||
	    copy(d->local_contact, sizeof(d->local_contact), pl_from(local_contact)))
		return ENAMETOOLONG;
	d->local_cseq = 0; /* the first request we send takes 1 */
	d->peer = *peer;
	return 0;
}

int sip_dialog_uac_update(struct sip_dialog *d, const struct sip_msg *resp)
{
	if (!resp->to.tag.p)
		return EBADMSG;
	int err = copy(d->remote_tag, sizeof(d->remote_tag), resp->to.tag);
	if (err)
		return err;
	/* a 1xx without Contact leaves the target as the Request-URI */
	if (sip_msg_hdr(resp, SIP_HDR_CONTACT) && copy_target(d, resp) && resp->status >= 200)
		return EBADMSG;
	err = copy_routes(d, resp, true);
	if (err)
		return err;
	if (resp->status >= 200 && resp->status < 300)
		d->confirmed = true;
	return 0;
}

int sip_dialog_request(struct sip_dialog *d, struct sbuf *b, const char *method,
		       uint32_t cseq, const char *via, char *branch_out,
		       const char *extra_hdrs, const char *ctype,
		       const char *body, size_t body_len)
{
	if (!cseq)
		cseq = ++d->local_cseq;
	char branch[40];
	sip_tsx_branch(branch, sizeof(branch));
	if (branch_out)
		snprintf(branch_out, 40, "%s", branch);
	sbuf_printf(b, "%s %s SIP/2.0\r\n", method, d->remote_target);
	sbuf_printf(b, "Via: %s;rport;branch=%s\r\n", via, branch);
	sbuf_adds(b, d->routes);
	sbuf_adds(b, "Max-Forwards: 70\r\n");
	/* From is ours in a request we send, whichever side began the call */
	sbuf_printf(b, "From: %s;tag=%s\r\n", d->local_hdr, d->local_tag);
	if (d->remote_tag[0])
		sbuf_printf(b, "To: %s;tag=%s\r\n", d->remote_hdr, d->remote_tag);
	else
		sbuf_printf(b, "To: %s\r\n", d->remote_hdr);
	sbuf_printf(b, "Call-ID: %s\r\n", d->call_id);
	sbuf_printf(b, "CSeq: %u %s\r\n", cseq, method);
	if (strcmp(method, "ACK") && strcmp(method, "CANCEL") && d->local_contact[0])
		sbuf_printf(b, "Contact: <%s>\r\n", d->local_contact);
	if (extra_hdrs)
		sbuf_adds(b, extra_hdrs);
	if (body && ctype)
		sbuf_printf(b, "Content-Type: %s\r\n", ctype);
	sbuf_printf(b, "Content-Length: %zu\r\n\r\n", body ? body_len : 0);
	if (body)
		sbuf_add(b, body, body_len);
	return b->err;
}

bool sip_dialog_match_request(const struct sip_dialog *d, const struct sip_msg *req)
{
	/* In a request from the peer, To carries our tag and From theirs. */
	return pl_eq(req->call_id, pl_from(d->call_id)) &&
	       pl_eq(req->to.tag, pl_from(d->local_tag)) &&
	       (!d->remote_tag[0] || pl_eq(req->from.tag, pl_from(d->remote_tag)));
}

int sip_dialog_accept_request(struct sip_dialog *d, const struct sip_msg *req)
{
	bool is_ack = pl_eq(req->method, PL("ACK")), is_cancel = pl_eq(req->method, PL("CANCEL"));
	if (!is_ack && !is_cancel) {
		if (d->remote_cseq_set && req->cseq.num <= d->remote_cseq)
			return EALREADY;
		d->remote_cseq = req->cseq.num;
		d->remote_cseq_set = true;
	}
	/* target refresh requests may move the peer (12.2.2) */
	if (pl_eq(req->method, PL("INVITE")) || pl_eq(req->method, PL("UPDATE")))
		copy_target(d, req);
	return 0;
}
