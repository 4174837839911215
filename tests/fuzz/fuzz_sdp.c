/* libFuzzer harness for the SDP module: parses the input and, when it
 * parses, checks the promises sdp.h makes on the way through everything
 * else the module does with a received body:
 *  - the printer accepts every parsed session, and its output parses
 *    again and prints identically (print is a fixpoint after one round);
 *  - a clone prints like its source, after the source is freed;
 *  - anchoring gives a printable session that parses, with our address
 *    and ports, and anchoring the same input again against it keeps the
 *    o= version (RFC 3264 section 8);
 *  - an answer built from it prints and parses, with as many m= lines;
 *  - the read helpers (direction, hold, codec lookup) never misbehave.
 * Printed output may exceed SDP_MAX_BODY by the CRs the printer adds to
 * LF-only input, so the re-parse is only required below that size.
 * Seeds: tests/fuzz/seeds/sdp (RFC 4566/4317 bodies, phone and WebRTC
 * offers, IPv6, SRTP). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sdp/sdp.h"

static void die(const char *what, const struct sbuf *b)
{
	fprintf(stderr, "fuzz_sdp: %s\n", what);
	if (b && b->p)
		fprintf(stderr, "---\n%s---\n", b->p);
	abort();
}

static void print_or_die(struct sbuf *b, const struct sdp_session *s, const char *what)
{
	sbuf_init(b);
	int err = sdp_print(b, s);
	if (err == ENOMEM) {
		sbuf_free(b);
		b->p = NULL;
		return;
	}
	if (err)
		die(what, b);
}

/* Parses printed output (when small enough to be required to). */
static struct sdp_session *reparse(const struct sbuf *b, const char *what)
{
	struct sdp_session *s = NULL;
	if (!b->p || b->len > SDP_MAX_BODY)
		return NULL;
	int err = sdp_parse(&s, b->p, b->len);
	if (err == ENOMEM)
		return NULL;
	if (err)
		die(what, b);
	return s;
}

static bool same(const struct sbuf *a, const struct sbuf *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static void readers(const struct sdp_session *s)
{
	(void)sdp_held(s);
	for (size_t i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];
		enum sdp_dir d = sdp_direction_of(s, m);
		if (d < SDP_INACTIVE || d > SDP_SENDRECV || !sdp_dir_name(d))
			die("bad direction", NULL);
		(void)sdp_media_held(s, m);
		const struct sdp_conn *c = sdp_media_conn(s, m);
		if (m->port && !c)
			die("active stream without c=", NULL);
		if (m->nfmts > SDP_MAX_FMTS || m->nattrs > SDP_MAX_ATTRS)
			die("limit exceeded", NULL);
		for (size_t j = 0; j < m->nfmts; j++) {
			struct pl enc;
			uint32_t clock;
			uint8_t ch;
			if (sdp_fmt_codec(&m->fmts[j], &enc, &clock, &ch) == 0 && (!enc.l || !clock))
				die("codec without name or clock", NULL);
			if (sdp_fmt_find(m, m->fmts[j].id) != &m->fmts[j])
				die("format listed twice", NULL);
		}
	}
}

static void anchor(const struct sdp_session *s, const struct sbuf *b1)
{
	uint16_t ports[SDP_MAX_MEDIA];
	for (size_t i = 0; i < SDP_MAX_MEDIA; i++)
		ports[i] = (uint16_t)(i == 2 ? 0 : 20000 + 2 * i); /* one refused by us */
	struct sdp_local loc = {
		.addr = s->origin.af == SDP_IP6 ? "2001:db8::1" : "192.0.2.1",
		.ports = ports, .nports = s->nmedia,
		.user = "hookflash", .sess_id = 7, .sess_version = 9,
	};
	struct sdp_session *a = NULL, *a2 = NULL;
	int err = sdp_anchor(&a, s, &loc);
	if (err == ENOMEM)
		return;
	if (err)
		die("sdp_anchor refused a parsed session", b1);
	if (a->origin.sess_version != 9 || a->conn.af == SDP_AF_NONE)
		die("anchor o=/c=", NULL);
	for (size_t i = 0; i < a->nmedia; i++) {
		const struct sdp_media *m = &a->media[i];
		if (m->port && (m->port != ports[i] || m->conn.af != SDP_AF_NONE || m->has_rtcp ||
				m->rtcp_mux))
			die("anchor left the other leg's transport", NULL);
	}
	struct sbuf p;
	print_or_die(&p, a, "anchored session does not print");
	sdp_free(reparse(&p, "anchored session does not parse"));

	/* The same input again: nothing we say changed, so no new version. */
	loc.prev = a;
	err = sdp_anchor(&a2, s, &loc);
	if (!err && a2->origin.sess_version != a->origin.sess_version)
		die("unchanged re-anchor bumped the version", &p);
	if (err && err != ENOMEM)
		die("re-anchor failed", &p);
	sdp_free(a2);
	sbuf_free(&p);
	sdp_free(a);
}

static void answer(const struct sdp_session *s)
{
	static const struct sdp_codec codecs[] = {
		{ "PCMU", 8000, 0, NULL }, { "PCMA", 8000, 0, NULL },
		{ "G722", 8000, 0, NULL }, { "opus", 48000, 2, "useinbandfec=1" },
		{ "telephone-event", 8000, 0, NULL },
	};
	uint16_t ports[SDP_MAX_MEDIA];
	for (size_t i = 0; i < SDP_MAX_MEDIA; i++)
		ports[i] = (uint16_t)(30000 + 2 * i);
	struct sdp_local loc = { .addr = "198.51.100.7", .ports = ports, .nports = s->nmedia };
	/* Without telephone-event in the list half of the time, so that the
	 * "kept when offered" path is reached too. */
	struct sdp_answer_prefs prefs = {
		.codecs = codecs, .ncodecs = s->origin.sess_version & 1 ? 4 : 5,
		.our_order = s->nmedia & 1,
		.max_codecs = s->nmedia % 3, .dir = (enum sdp_dir)(s->origin.sess_id % 5),
		.ptime = 20,
	};
	struct sdp_session *a = NULL;
	int err = sdp_answer(&a, s, &loc, &prefs);
	if (err == ENOMEM)
		return;
	if (err || a->nmedia != s->nmedia)
		die("sdp_answer", NULL);
	for (size_t i = 0; i < a->nmedia; i++)
		if (!pl_eq(a->media[i].type, s->media[i].type) ||
		    (s->media[i].port == 0 && a->media[i].port != 0))
			die("answer m= lines do not match the offer", NULL);
	struct sbuf p;
	print_or_die(&p, a, "answer does not print");
	sdp_free(reparse(&p, "answer does not parse"));
	sbuf_free(&p);
	sdp_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_session *s = NULL;
	if (sdp_parse(&s, (const char *)data, size))
		return 0;
	readers(s);

	struct sbuf b1, b2, b3;
	print_or_die(&b1, s, "parsed session does not print");
	struct sdp_session *s2 = reparse(&b1, "printed session does not parse");
	if (s2) {
		print_or_die(&b2, s2, "re-parsed session does not print");
		if (b2.p && !same(&b1, &b2))
			die("print is not a fixpoint", &b2);
		if (s2->nmedia != s->nmedia || s2->nattrs != s->nattrs)
			die("re-parse lost lines", &b2);
		sbuf_free(&b2);
		sdp_free(s2);
	}

	struct sdp_session *c = NULL;
	if (sdp_clone(&c, s) == 0) {
		anchor(s, &b1);
		answer(s);
		sdp_free(s);
		s = NULL;
		print_or_die(&b3, c, "clone does not print");
		if (b1.p && b3.p && !same(&b1, &b3))
			die("clone prints differently", &b3);
		sbuf_free(&b3);
		sdp_free(c);
	}
	sbuf_free(&b1);
	sdp_free(s);
	return 0;
}
