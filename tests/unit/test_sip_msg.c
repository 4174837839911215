/* Unit tests for the SIP message code (core/sip/msg_*.c): every RFC 4475
 * and RFC 5118 torture message with the verdict its RFC section gives,
 * field-level checks on a sample of them, the value parsers, URI
 * comparison (RFC 3261 19.1.4), stream framing and response building.
 * The torture messages live in tests/unit/data/torture/ (see README). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sip/msg.h"

/* --- helpers ------------------------------------------------------------ */

static char data_dir[512] = "tests/unit/data/torture";

struct blob {
	char *p;
	size_t l;
};

static struct blob load(const char *name)
{
	char path[640];
	snprintf(path, sizeof(path), "%s/%s.dat", data_dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	struct blob b = { malloc(SIP_MAX_MSG + 1), 0 };
	assert_non_null(b.p);
	b.l = fread(b.p, 1, SIP_MAX_MSG + 1, f);
	fclose(f);
	return b;
}

/* Parses a torture file; asserts the return code. */
static struct sip_msg *parse_file(const char *name, int want)
{
	struct blob b = load(name);
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, b.p, b.l);
	free(b.p);
	if (err != want)
		fail_msg("%s: sip_msg_parse returned %d, expected %d", name, err, want);
	return err ? NULL : m;
}

static struct sip_msg *parse_str(const char *s)
{
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, s, strlen(s));
	if (err)
		fail_msg("sip_msg_parse: %d for\n%s", err, s);
	return m;
}

static void assert_pl(struct pl got, const char *want)
{
	if (!got.p || got.l != strlen(want) || memcmp(got.p, want, got.l) != 0)
		fail_msg("got \"%.*s\", expected \"%s\"", (int)got.l, got.p ? got.p : "", want);
}

static void assert_valid(const struct sip_msg *m, const char *name)
{
	if (m->error)
		fail_msg("%s: unexpected error \"%s\"", name, m->error);
	assert_int_equal(m->error_status, 0);
}

/* --- the torture corpus, message by message ----------------------------- */

enum verdict { VALID, ANSWER, DROP };

struct torture {
	const char *name;
	enum verdict v;
	uint16_t status;    /* ANSWER: 400 or 505 */
	const char *reason; /* ANSWER: the static reason we give */
};

/* The verdict each RFC section asks for. Notes on the ones where the RFC
 * leaves a choice:
 *  - trws (4475 3.1.2.10): "acceptable to reject", a liberal element may
 *    ignore the trailing SP; we do (unambiguous, and we never forward it).
 *  - baddate (3.1.2.12): rejecting is only right when the Date matters to
 *    the element; it does not to us (never interpreted), so accepted.
 *  - lwsstart, lwsruri, ltgtruri, escruri, regbadct, badaspec, baddn:
 *    "reasonable to reject", and we do.
 *  - mismatch02 (3.1.2.18): 501 is preferred, 400 acceptable; the parser
 *    cannot know what the TU implements, so 400.
 *  - insuf (3.3.1): without From/To/Call-ID no well-formed response can
 *    be built, so it is refused rather than answered.
 *  - scalarlg, bigcode: invalid responses are dropped, never answered.
 *  - RFC 5118 4.10: the three-colon IPv6 form must be tolerated. */
static const struct torture corpus[] = {
	/* RFC 4475 3.1.1: valid */
	{ "wsinv", VALID, 0, NULL },
	{ "intmeth", VALID, 0, NULL },
	{ "esc01", VALID, 0, NULL },
	{ "escnull", VALID, 0, NULL },
	{ "esc02", VALID, 0, NULL },
	{ "lwsdisp", VALID, 0, NULL },
	{ "longreq", VALID, 0, NULL },
	{ "dblreq", VALID, 0, NULL },
	{ "semiuri", VALID, 0, NULL },
	{ "transports", VALID, 0, NULL },
	{ "mpart01", VALID, 0, NULL },
	{ "unreason", VALID, 0, NULL },
	{ "noreason", VALID, 0, NULL },
	/* RFC 4475 3.1.2: invalid */
	{ "badinv01", ANSWER, 400, "Bad Via" },
	{ "clerr", ANSWER, 400, "Content-Length Too Large" },
	{ "ncl", ANSWER, 400, "Bad Content-Length" },
	{ "scalar02", ANSWER, 400, "Bad CSeq" },
	{ "scalarlg", DROP, 0, NULL },
	{ "quotbal", ANSWER, 400, "Bad To" },
	{ "ltgtruri", ANSWER, 400, "Bad Request-URI" },
	{ "lwsruri", ANSWER, 400, "Bad Request-URI" },
	{ "lwsstart", ANSWER, 400, "Bad Request-URI" },
	{ "trws", VALID, 0, NULL },
	{ "escruri", ANSWER, 400, "Bad Request-URI" },
	{ "baddate", VALID, 0, NULL },
	{ "regbadct", ANSWER, 400, "Bad Contact" },
	{ "badaspec", ANSWER, 400, "Bad To" },
	{ "baddn", ANSWER, 400, "Bad From" },
	{ "badvers", ANSWER, 505, "Version Not Supported" },
	{ "mismatch01", ANSWER, 400, "CSeq Method Mismatch" },
	{ "mismatch02", ANSWER, 400, "CSeq Method Mismatch" },
	{ "bigcode", DROP, 0, NULL },
	/* RFC 4475 3.2: transaction layer */
	{ "badbranch", VALID, 0, NULL },
	/* RFC 4475 3.3: application layer */
	{ "insuf", DROP, 0, NULL },
	{ "unkscm", VALID, 0, NULL },
	{ "novelsc", VALID, 0, NULL },
	{ "unksm2", VALID, 0, NULL },
	{ "bext01", VALID, 0, NULL },
	{ "invut", VALID, 0, NULL },
	{ "regaut01", VALID, 0, NULL },
	{ "multi01", ANSWER, 400, "Multiple From" },
	{ "mcl01", ANSWER, 400, "Multiple Content-Length" },
	{ "bcast", VALID, 0, NULL },
	{ "zeromf", VALID, 0, NULL },
	{ "cparam01", VALID, 0, NULL },
	{ "cparam02", VALID, 0, NULL },
	{ "regescrt", VALID, 0, NULL },
	{ "sdp01", VALID, 0, NULL },
	/* RFC 4475 3.4: backward compatibility */
	{ "inv2543", VALID, 0, NULL },
	/* RFC 5118 */
	{ "ipv6-good", VALID, 0, NULL },
	{ "ipv6-bad", ANSWER, 400, "Bad Request-URI" },
	{ "port-ambiguous", VALID, 0, NULL },
	{ "port-unambiguous", VALID, 0, NULL },
	{ "via-received-param-with-delim", VALID, 0, NULL },
	{ "via-received-param-no-delim", VALID, 0, NULL },
	{ "ipv6-in-sdp", VALID, 0, NULL },
	{ "mult-ip-in-header", VALID, 0, NULL },
	{ "mult-ip-in-sdp", VALID, 0, NULL },
	{ "ipv4-mapped-ipv6", VALID, 0, NULL },
	{ "ipv6-bug-abnf-3-colons", VALID, 0, NULL },
	{ "ipv6-correct-abnf-2-colons", VALID, 0, NULL },
};

static void test_corpus_verdicts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		const struct torture *t = &corpus[i];
		struct sip_msg *m = parse_file(t->name, t->v == DROP ? EBADMSG : 0);
		if (!m)
			continue;
		if (t->v == VALID) {
			assert_valid(m, t->name);
		} else {
			if (!m->error || strcmp(m->error, t->reason) != 0)
				fail_msg("%s: error \"%s\", expected \"%s\"", t->name,
					 m->error ? m->error : "(none)", t->reason);
			assert_int_equal(m->error_status, t->status);
			/* Answerable means the response can be built and routed. */
			assert_true(m->is_request);
			assert_true(m->via.host.l > 0);
			assert_non_null(sip_msg_hdr(m, SIP_HDR_FROM));
			assert_non_null(sip_msg_hdr(m, SIP_HDR_TO));
			assert_non_null(sip_msg_hdr(m, SIP_HDR_CALL_ID));
			assert_non_null(sip_msg_hdr(m, SIP_HDR_CSEQ));
		}
		sip_msg_free(m);
	}
}

/* Over a stream the same files frame as RFC 4475 says: clerr waits for
 * more, ncl and mcl01 cannot be framed, inv2543 has no Content-Length. */
static void test_corpus_framing(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int err;
	} want[] = {
		{ "wsinv", 0 },   { "mpart01", 0 },  { "clerr", EAGAIN },   { "ncl", EBADMSG },
		{ "mcl01", EBADMSG }, { "inv2543", EBADMSG }, { "scalar02", 0 }, { "longreq", 0 },
		{ "baddn", EAGAIN }, /* the archive ends without the empty line */
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct blob b = load(want[i].name);
		size_t n = 0;
		int err = sip_msg_frame(b.p, b.l, &n);
		if (err != want[i].err)
			fail_msg("%s: frame %d, expected %d", want[i].name, err, want[i].err);
		free(b.p);
	}
	/* wsinv frames at headers + 150 octets; the archive adds nothing. */
	struct blob b = load("wsinv");
	size_t n;
	assert_int_equal(sip_msg_frame(b.p, b.l, &n), 0);
	assert_int_equal(n, b.l);
	free(b.p);
}

static void test_wsinv(void **state)
{
	(void)state;
	struct sip_msg *m = parse_file("wsinv", 0);
	assert_true(m->is_request);
	assert_pl(m->method, "INVITE");
	assert_pl(m->ruri.scheme, "sip");
	assert_pl(m->ruri.user, "vivekg");
	assert_pl(m->ruri.host, "chair-dnrc.example.com");
	assert_pl(m->ruri.params, "unknownparam");
	assert_pl(m->version, "SIP/2.0");
	assert_pl(m->to.uri.user, "vivekg");
	assert_pl(m->to.tag, "1918181833n");
	assert_null(m->to.dname.p);
	assert_pl(m->from.dname, "J Rosenberg \\\\\\\"");
	assert_pl(m->from.uri.user, "jdrosen");
	assert_pl(m->from.tag, "98asjd8");
	assert_int_equal(m->max_forwards, 68);
	assert_pl(m->call_id, "wsinv.ndaksdj@192.0.2.1");
	assert_int_equal(m->cseq.num, 9);
	assert_pl(m->cseq.method, "INVITE");
	/* Three Via values: one folded header, two on one compact line. */
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_VIA), 3);
	assert_pl(m->via.transport, "UDP");
	assert_pl(m->via.host, "192.0.2.2");
	assert_int_equal(m->via.port, 0);
	assert_pl(m->via.branch, "390skdjuw");
	const struct sip_hdr *v2 = sip_msg_hdr_next(m, SIP_HDR_VIA, sip_msg_hdr(m, SIP_HDR_VIA));
	struct sip_via via;
	assert_int_equal(sip_via_parse(&via, v2->value), 0);
	assert_pl(via.transport, "TCP");
	assert_pl(via.host, "spindle.example.com");
	assert_pl(via.branch, "z9hG4bK9ikj8");
	assert_pl(v2->name, "v");
	const struct sip_hdr *v3 = sip_msg_hdr_next(m, SIP_HDR_VIA, v2);
	assert_int_equal(sip_via_parse(&via, v3->value), 0);
	assert_pl(via.host, "192.168.255.111");
	assert_pl(via.branch, "z9hG4bK30239");
	assert_null(sip_msg_hdr_next(m, SIP_HDR_VIA, v3));
	/* Empty Subject, unfolded unknown header, the odd one kept whole. */
	const struct sip_hdr *s = sip_msg_hdr(m, SIP_HDR_SUBJECT);
	assert_non_null(s);
	assert_int_equal(s->value.l, 0);
	assert_pl(s->name, "s");
	const struct sip_hdr *nf = sip_msg_hdr_byname(m, "newfangledheader");
	assert_non_null(nf);
	assert_pl(nf->value, "newfangled value   continued newfangled value");
	assert_null(memchr(nf->value.p, '\r', nf->value.l));
	assert_pl(sip_msg_hdr_byname(m, "UnknownHeaderWithUnusualValue")->value, ";;,,;;,;");
	assert_pl(m->content_type, "application/sdp");
	assert_true(m->has_content_length);
	assert_int_equal(m->content_length, 150);
	assert_int_equal(m->body.l, 150);
	assert_memory_equal(m->body.p, "v=0\r\n", 5);
	/* Contact with quoted-pairs in the display name and spaced params. */
	struct sip_addr a;
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(m, SIP_HDR_CONTACT)->value), 0);
	assert_pl(a.dname, "Quoted string \\\"\\\"");
	struct pl v;
	assert_true(sip_param_get(a.params, "newparam", &v));
	assert_pl(v, "newvalue");
	assert_true(sip_param_get(a.params, "secondparam", &v));
	assert_int_equal(v.l, 0);
	assert_true(sip_param_get(a.params, "Q", &v));
	assert_pl(v, "0.33");
	/* Route is a list header with a single value. */
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_ROUTE), 1);
	assert_pl(sip_msg_hdr(m, SIP_HDR_ROUTE)->value,
		  "<sip:services.example.com;lr;unknownwith=value;unknown-no-value>");
	sip_msg_free(m);
}

static void test_intmeth(void **state)
{
	(void)state;
	struct sip_msg *m = parse_file("intmeth", 0);
	assert_pl(m->method, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_pl(m->ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_pl(m->ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_pl(m->ruri.host, "example.com");
	assert_null(m->ruri.params.p);
	assert_pl(m->via.branch, "z9hG4bK-.!%66*_+`'~");
	/* The To display name holds quoted BEL, NUL and DEL. */
	assert_int_equal(m->to.dname.l, 20);
	assert_memory_equal(m->to.dname.p, "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f", 20);
	assert_pl(m->from.dname, "token1~` token2'+_ token3*%!.-");
	assert_pl(m->from.tag, "_token~1'+`*%!-.");
	struct pl v;
	assert_true(sip_param_get(m->from.params, "fromParam''~+*_!.-%", &v));
	assert_int_equal(v.l, 22); /* quoted UTF-8, quotes included */
	assert_pl(m->call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	assert_int_equal(m->cseq.num, 139122385);
	assert_int_equal(m->max_forwards, 255);
	const struct sip_hdr *x = sip_msg_hdr_byname(m, "extensionHeader-!.%*+_`'~");
	assert_non_null(x);
	assert_memory_equal(x->value.p, "\xef\xbb\xbf\xe5\xa4\xa7", 6);
	sip_msg_free(m);
}

static void test_esc01_escnull_esc02(void **state)
{
	(void)state;
	char buf[64];
	struct sip_msg *m = parse_file("esc01", 0);
	assert_pl(m->ruri.user, "sips%3Auser%40example.com");
	assert_int_equal(sip_unescape(m->ruri.user, buf, sizeof(buf)), 21);
	assert_string_equal(buf, "sips:user@example.com");
	assert_int_equal(sip_unescape(m->to.uri.user, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "user");
	assert_int_equal(sip_unescape(m->from.uri.user, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "I have spaces");
	assert_pl(m->content_type, "application/sdp"); /* "C:" compact form */
	assert_pl(m->call_id, "esc01.239409asdfakjkn23onasd0-3234"); /* "i:" */
	struct sip_addr a;
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(m, SIP_HDR_CONTACT)->value), 0);
	assert_pl(a.uri.params, "%6C%72;n%61me=v%61lue%25%34%31");
	/* Unescaping is never recursive: value%41 is not valueA. */
	struct pl v;
	assert_true(sip_param_get(a.uri.params, "n%61me", &v));
	assert_int_equal(sip_unescape(v, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "value%41");
	sip_msg_free(m);

	m = parse_file("escnull", 0);
	assert_pl(m->to.uri.user, "null-%00-null");
	assert_int_equal(sip_unescape(m->to.uri.user, buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "null-\0-null", 11);
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_CONTACT), 2);
	struct sip_addr c1, c2;
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT);
	assert_int_equal(sip_addr_parse(&c1, h->value), 0);
	assert_int_equal(sip_addr_parse(&c2, sip_msg_hdr_next(m, SIP_HDR_CONTACT, h)->value), 0);
	assert_false(sip_uri_equal(&c1.uri, &c2.uri)); /* two distinct contacts */
	assert_int_equal(m->content_length, 0);        /* "L:0" */
	sip_msg_free(m);

	m = parse_file("esc02", 0);
	assert_pl(m->method, "RE%47IST%45R"); /* not REGISTER */
	assert_pl(m->to.dname, "%Z%45");
	assert_pl(m->via.branch, "z9hG4bK209%fzsnel234");
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_CONTACT), 2); /* not three */
	assert_pl(sip_msg_hdr_byname(m, "C%6Fntact")->value, "<sip:alias2@host2.example.com>");
	sip_msg_free(m);
}

static void test_valid_misc(void **state)
{
	(void)state;
	struct sip_msg *m = parse_file("lwsdisp", 0);
	assert_pl(m->from.dname, "caller");
	assert_pl(m->from.uri.user, "caller");
	sip_msg_free(m);

	m = parse_file("longreq", 0);
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_VIA), 34);
	assert_pl(m->via.host, "sip33.example.com");
	assert_null(m->via.branch.p);
	assert_int_equal(m->to.uri.port, 6000);
	assert_int_equal(m->from.tag.l, 155);
	assert_int_equal(m->content_length, 150);
	const struct sip_hdr *h = NULL;
	for (int i = 0; i < 34; i++)
		h = sip_msg_hdr_next(m, SIP_HDR_VIA, h);
	struct sip_via via;
	assert_int_equal(sip_via_parse(&via, h->value), 0);
	assert_pl(via.received, "192.0.2.5");
	sip_msg_free(m);

	m = parse_file("dblreq", 0);
	assert_pl(m->method, "REGISTER"); /* the INVITE after it is noise */
	assert_int_equal(m->body.l, 0);
	sip_msg_free(m);

	m = parse_file("semiuri", 0);
	assert_pl(m->ruri.user, "user;par=u%40example.net");
	assert_pl(m->ruri.host, "example.com");
	assert_null(m->ruri.params.p);
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_ACCEPT), 6);
	sip_msg_free(m);

	m = parse_file("transports", 0);
	static const char *const tp[] = { "UDP", "SCTP", "TLS", "UNKNOWN", "TCP" };
	h = NULL;
	for (int i = 0; i < 5; i++) {
		h = sip_msg_hdr_next(m, SIP_HDR_VIA, h);
		assert_int_equal(sip_via_parse(&via, h->value), 0);
		assert_pl(via.transport, tp[i]);
	}
	assert_pl(m->call_id, "transports.kijh4akdnaqjkwendsasfdj");
	sip_msg_free(m);

	m = parse_file("mpart01", 0);
	assert_true(m->via.rport);
	assert_int_equal(m->via.rport_val.l, 0);
	assert_int_equal(m->via.port, 5070);
	assert_int_equal(m->body.l, 553);
	assert_pl(m->content_type, "multipart/mixed;boundary=7a9cbec02ceef655");
	sip_msg_free(m);

	m = parse_file("unreason", 0);
	assert_false(m->is_request);
	assert_int_equal(m->status, 200);
	assert_int_equal(m->reason.l, 74);
	assert_memory_equal(m->reason.p, "= 2**3 * 5**2 \xd0\xbd\xd0\xbe", 18);
	sip_msg_free(m);

	m = parse_file("noreason", 0);
	assert_int_equal(m->status, 100);
	assert_non_null(m->reason.p);
	assert_int_equal(m->reason.l, 0);
	sip_msg_free(m);

	m = parse_file("trws", 0);
	assert_pl(m->version, "SIP/2.0");
	assert_pl(m->ruri.user, "remote-target");
	sip_msg_free(m);

	m = parse_file("badbranch", 0);
	assert_pl(m->via.branch, "z9hG4bK");
	sip_msg_free(m);
}

static void test_application_layer(void **state)
{
	(void)state;
	struct sip_msg *m = parse_file("unkscm", 0);
	assert_pl(m->ruri.scheme, "nobodyKnowsThisScheme");
	assert_pl(m->ruri.opaque, "totallyopaquecontent");
	assert_null(m->ruri.host.p);
	sip_msg_free(m);

	m = parse_file("novelsc", 0);
	assert_pl(m->ruri.scheme, "soap.beep");
	assert_pl(m->ruri.opaque, "//192.0.2.103:3002");
	sip_msg_free(m);

	m = parse_file("unksm2", 0);
	assert_pl(m->to.uri.scheme, "isbn");
	assert_pl(m->from.uri.scheme, "http");
	assert_pl(m->from.tag, "3234233");
	struct sip_addr a;
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(m, SIP_HDR_CONTACT)->value), 0);
	assert_pl(a.uri.scheme, "name");
	sip_msg_free(m);

	m = parse_file("bext01", 0);
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_REQUIRE), 2);
	assert_pl(sip_msg_hdr(m, SIP_HDR_REQUIRE)->value, "nothingSupportsThis");
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_PROXY_REQUIRE), 2);
	sip_msg_free(m);

	m = parse_file("invut", 0);
	assert_pl(m->content_type, "application/unknownformat");
	assert_int_equal(m->body.l, 40);
	sip_msg_free(m);

	m = parse_file("regaut01", 0);
	assert_pl(sip_msg_hdr(m, SIP_HDR_AUTHORIZATION)->value,
		  "NoOneKnowsThisScheme opaque-data=here");
	sip_msg_free(m);

	m = parse_file("bcast", 0);
	assert_int_equal(m->status, 200);
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_VIA), 2);
	sip_msg_free(m);

	m = parse_file("zeromf", 0);
	assert_int_equal(m->max_forwards, 0);
	sip_msg_free(m);

	/* cparam01: without <> the parameter belongs to the header ... */
	m = parse_file("cparam01", 0);
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(m, SIP_HDR_CONTACT)->value), 0);
	assert_null(a.uri.params.p);
	assert_pl(a.params, "unknownparam");
	assert_pl(a.uri.user, "+19725552222");
	sip_msg_free(m);
	/* ... cparam02: inside <> to the URI. */
	m = parse_file("cparam02", 0);
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(m, SIP_HDR_CONTACT)->value), 0);
	assert_pl(a.uri.params, "unknownparam");
	assert_null(a.params.p);
	sip_msg_free(m);

	m = parse_file("regescrt", 0);
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(m, SIP_HDR_CONTACT)->value), 0);
	assert_pl(a.uri.headers, "Route=%3Csip:sip.example.com%3E");
	sip_msg_free(m);

	m = parse_file("inv2543", 0);
	assert_false(m->has_content_length);
	assert_int_equal(m->max_forwards, -1);
	assert_null(m->from.tag.p);
	assert_null(m->via.branch.p);
	assert_true(m->body.l >= 100); /* the rest of the datagram */
	assert_memory_equal(m->body.p, "v=0\r\n", 5);
	sip_msg_free(m);

	m = parse_file("sdp01", 0);
	assert_pl(sip_msg_hdr(m, SIP_HDR_ACCEPT)->value, "text/nobodyKnowsThis");
	sip_msg_free(m);

	m = parse_file("baddate", 0);
	assert_pl(sip_msg_hdr(m, SIP_HDR_DATE)->value, "Fri, 01 Jan 2010 16:00:00 EST");
	sip_msg_free(m);
}

static void test_invalid_details(void **state)
{
	(void)state;
	/* badinv01: the top Via still routes a 400 back. */
	struct sip_msg *m = parse_file("badinv01", 0);
	assert_pl(m->via.host, "192.0.2.15");
	struct sip_via v;
	assert_int_equal(sip_via_parse(&v, sip_msg_hdr(m, SIP_HDR_VIA)->value), EINVAL);
	sip_msg_free(m);

	m = parse_file("clerr", 0);
	assert_int_equal(m->content_length, 9999);
	assert_true(m->body.l < 9999);
	sip_msg_free(m);

	m = parse_file("scalar02", 0);
	assert_int_equal(m->expires, -1); /* 10^100 taken as absent */
	sip_msg_free(m);

	m = parse_file("badvers", 0);
	assert_pl(m->version, "SIP/7.0");
	assert_pl(m->via.proto, "SIP/7.0");
	sip_msg_free(m);

	m = parse_file("multi01", 0);
	assert_pl(m->call_id, "multi01.98asdh@192.0.2.1"); /* the first one */
	assert_int_equal(m->cseq.num, 5);
	sip_msg_free(m);

	m = parse_file("escruri", 0);
	assert_pl(m->ruri_raw, "sip:user@example.com?Route=%3Csip:example.com%3E");
	sip_msg_free(m);
}

static void test_rfc5118(void **state)
{
	(void)state;
	struct sip_msg *m = parse_file("ipv6-good", 0);
	assert_true(m->ruri.ipv6);
	assert_pl(m->ruri.host, "2001:db8::10");
	assert_true(m->via.ipv6);
	assert_pl(m->via.host, "2001:db8::9:1");
	struct sip_addr a;
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(m, SIP_HDR_CONTACT)->value), 0);
	assert_pl(a.uri.host, "2001:db8::1");
	assert_pl(a.dname, "Caller");
	sip_msg_free(m);

	m = parse_file("ipv6-bad", 0);
	assert_null(m->ruri.host.p);
	sip_msg_free(m);

	m = parse_file("port-ambiguous", 0);
	assert_pl(m->ruri.host, "2001:db8::10:5070");
	assert_int_equal(m->ruri.port, 0);
	sip_msg_free(m);

	m = parse_file("port-unambiguous", 0);
	assert_pl(m->ruri.host, "2001:db8::10");
	assert_int_equal(m->ruri.port, 5070);
	sip_msg_free(m);

	m = parse_file("via-received-param-with-delim", 0);
	assert_pl(m->via.received, "2001:db8::9:255");
	sip_msg_free(m);

	m = parse_file("via-received-param-no-delim", 0);
	assert_pl(m->via.received, "2001:db8::9:255");
	assert_pl(m->via.branch, "z9hG4bKas3");
	sip_msg_free(m);

	m = parse_file("mult-ip-in-header", 0);
	assert_int_equal(m->via.port, 6050);
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
	struct sip_via v;
	h = sip_msg_hdr_next(m, SIP_HDR_VIA, h);
	assert_int_equal(sip_via_parse(&v, h->value), 0);
	assert_false(v.ipv6);
	assert_pl(v.host, "192.0.2.1");
	h = sip_msg_hdr_next(m, SIP_HDR_VIA, h);
	assert_int_equal(sip_via_parse(&v, h->value), 0);
	assert_pl(v.host, "2001:db8::9:255");
	assert_pl(v.received, "192.0.2.200");
	sip_msg_free(m);

	m = parse_file("ipv4-mapped-ipv6", 0);
	assert_pl(m->via.host, "::ffff:192.0.2.10");
	assert_int_equal(m->via.port, 19823);
	sip_msg_free(m);

	m = parse_file("ipv6-bug-abnf-3-colons", 0);
	assert_pl(m->ruri.host, "2001:db8:::192.0.2.1");
	assert_pl(m->to.uri.host, "2001:db8:::192.0.2.1");
	sip_msg_free(m);
	m = parse_file("ipv6-correct-abnf-2-colons", 0);
	assert_pl(m->ruri.host, "2001:db8::192.0.2.1");
	sip_msg_free(m);

	m = parse_file("ipv6-in-sdp", 0);
	assert_int_equal(m->body.l, m->content_length);
	sip_msg_free(m);
}

/* --- parser behaviour on hand-made messages ----------------------------- */

#define REQ_HEAD                                                                       \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n"                           \
	"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"               \
	"Call-ID: c1@example.com\r\nCSeq: 1 OPTIONS\r\n"

static void test_refused(void **state)
{
	(void)state;
	struct sip_msg *m = NULL;
	static char big[SIP_MAX_MSG + 2];
	memset(big, 'a', sizeof(big));
	assert_int_equal(sip_msg_parse(&m, big, SIP_MAX_MSG + 1), EMSGSIZE);
	assert_int_equal(sip_msg_parse(&m, big, SIP_MAX_MSG), EBADMSG);
	assert_int_equal(sip_msg_parse(&m, "", 0), EBADMSG);
	assert_int_equal(sip_msg_parse(&m, "\r\n\r\n", 4), EBADMSG);
	assert_int_equal(sip_msg_parse(&m, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
			 EBADMSG);
	const char *http = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	assert_int_equal(sip_msg_parse(&m, http, strlen(http)), EBADMSG);
	const char *noline = "OPTIONS sip:a@b SIP/2.0";
	assert_int_equal(sip_msg_parse(&m, noline, strlen(noline)), EBADMSG);
	const char *nocid = "OPTIONS sip:b@example.com SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
			    "To: <sip:b@c>\r\nCSeq: 1 OPTIONS\r\n\r\n";
	assert_int_equal(sip_msg_parse(&m, nocid, strlen(nocid)), EBADMSG);
	const char *badvia = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: garbage\r\n"
			     "From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: x\r\n"
			     "CSeq: 1 OPTIONS\r\n\r\n";
	assert_int_equal(sip_msg_parse(&m, badvia, strlen(badvia)), EBADMSG);
	const char *resp = "SIP/2.0 200 OK\r\n" REQ_HEAD "Content-Length: 5\r\n\r\nabc";
	assert_int_equal(sip_msg_parse(&m, resp, strlen(resp)), EBADMSG); /* short body */
	const char *resp2 = "SIP/2.0 99 Odd\r\n" REQ_HEAD "\r\n";
	assert_int_equal(sip_msg_parse(&m, resp2, strlen(resp2)), EBADMSG);
	const char *resp3 = "SIP/3.0 200 OK\r\n" REQ_HEAD "\r\n";
	assert_int_equal(sip_msg_parse(&m, resp3, strlen(resp3)), EBADMSG);
	assert_int_equal(sip_msg_parse(NULL, http, 4), EINVAL);
	assert_null(m);

	/* More than SIP_MAX_HDRS values cannot be answered faithfully. */
	char *many = malloc(SIP_MAX_MSG);
	assert_non_null(many);
	int n = snprintf(many, SIP_MAX_MSG, "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD);
	for (int i = 0; i < SIP_MAX_HDRS; i++)
		n += snprintf(many + n, (size_t)(SIP_MAX_MSG - n), "X-H%d: %d\r\n", i, i);
	n += snprintf(many + n, (size_t)(SIP_MAX_MSG - n), "\r\n");
	assert_int_equal(sip_msg_parse(&m, many, (size_t)n), EBADMSG);
	free(many);
}

static void test_forms(void **state)
{
	(void)state;
	/* Compact names, odd case, LF-only line ends, folding, lists. */
	const char *s = "INVITE sip:bob@example.com SIP/2.0\n"
			"v: SIP/2.0/TCP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com\n"
			"vIa: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\n"
			"f: \"A, B\" <sip:a@example.com>;tag=9\n"
			"T: <sip:bob@example.com>\n"
			"I: abc\n"
			"cseq: 7\n\tINVITE\n"
			"m: <sip:a@1.2.3.4>;expires=60, \"x,y\" <sip:b@5.6.7.8>\n"
			"k: 100rel,timer , replaces\n"
			"Route: <sip:p1;lr>,<sip:p2;lr>\n"
			"Max-Forwards: 70\n"
			"Expires: 300\n"
			"c: text/plain\n"
			"l: 4\n"
			"\n"
			"body";
	struct sip_msg *m = parse_str(s);
	assert_valid(m, "forms");
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_VIA), 3);
	assert_pl(m->via.host, "a.example.com");
	assert_pl(m->from.dname, "A, B");
	assert_pl(m->to.uri.user, "bob");
	assert_pl(m->call_id, "abc");
	assert_int_equal(m->cseq.num, 7);
	assert_pl(m->cseq.method, "INVITE");
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_CONTACT), 2);
	assert_pl(sip_msg_hdr_next(m, SIP_HDR_CONTACT, sip_msg_hdr(m, SIP_HDR_CONTACT))->value,
		  "\"x,y\" <sip:b@5.6.7.8>");
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_SUPPORTED), 3);
	assert_pl(sip_msg_hdr(m, SIP_HDR_SUPPORTED)->value, "100rel");
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_ROUTE), 2);
	assert_int_equal(m->max_forwards, 70);
	assert_int_equal(m->expires, 300);
	assert_pl(m->content_type, "text/plain");
	assert_pl(m->body, "body");
	/* byname: long names find compact ones and the other way round. */
	assert_ptr_equal(sip_msg_hdr_byname(m, "Supported"), sip_msg_hdr(m, SIP_HDR_SUPPORTED));
	assert_ptr_equal(sip_msg_hdr_byname(m, "CONTACT"), sip_msg_hdr(m, SIP_HDR_CONTACT));
	assert_ptr_equal(sip_msg_hdr_byname(m, "l"), sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH));
	assert_null(sip_msg_hdr_byname(m, "X-Nothing"));
	assert_null(sip_msg_hdr(m, SIP_HDR_RACK));
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_RACK), 0);
	sip_msg_free(m);

	/* Leading CRLF before the start line is skipped (RFC 3261 7.5). */
	m = parse_str("\r\n\r\nOPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD "\r\n");
	assert_valid(m, "leading crlf");
	assert_false(m->has_content_length);
	assert_int_equal(m->body.l, 0);
	sip_msg_free(m);
}

static void test_answerable_errors(void **state)
{
	(void)state;
	static const struct {
		const char *msg, *error;
	} cases[] = {
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD "Max-Forwards: 256\r\n\r\n",
		  "Bad Max-Forwards" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD "Content-Length: five\r\n\r\n",
		  "Bad Content-Length" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD "Content-Length: 99999999999\r\n\r\n",
		  "Bad Content-Length" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD "Broken header line\r\n\r\n",
		  "Malformed Header" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n continued\r\n" REQ_HEAD "\r\n",
		  "Malformed Header" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD "Call-ID: again\r\n\r\n",
		  "Multiple Call-ID" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD "Contact: <sip:x@y>;;\r\n\r\n",
		  "Bad Contact" },
		{ "OPTIONS sip:b@ex ample.com SIP/2.0\r\n" REQ_HEAD "\r\n", "Bad Request-URI" },
		{ "OPTIONS sips: SIP/2.0\r\n" REQ_HEAD "\r\n", "Bad Request-URI" },
		{ "OPTIONS sip:b@example.com SIP/2.1\r\n" REQ_HEAD "\r\n", "Version Not Supported" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP h\r\nFrom: x\r\nTo: <sip:b@c>\r\nCall-ID: y\r\n"
		  "CSeq: 1 OPTIONS\r\n\r\n",
		  "Bad From" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\nCall-ID: a b\r\n"
		  "CSeq: 1 OPTIONS\r\n\r\n",
		  "Bad Call-ID" },
		{ "OPTIONS sip:b@example.com SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\nCall-ID: y\r\n"
		  "CSeq: OPTIONS\r\n\r\n",
		  "Bad CSeq" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_msg *m = parse_str(cases[i].msg);
		if (!m->error || strcmp(m->error, cases[i].error) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s\"", i, m->error ? m->error : "(none)",
				 cases[i].error);
		sip_msg_free(m);
	}
}

/* --- value parsers ------------------------------------------------------ */

static void test_uri_parse(void **state)
{
	(void)state;
	struct sip_uri u;
	assert_int_equal(sip_uri_parse(&u, pl_from("sips:alice:secret@[2001:DB8::1]:5061;transport=tls;lr?Subject=hi&X=%20y")), 0);
	assert_pl(u.scheme, "sips");
	assert_pl(u.user, "alice");
	assert_pl(u.password, "secret");
	assert_pl(u.host, "2001:DB8::1");
	assert_true(u.ipv6);
	assert_int_equal(u.port, 5061);
	assert_pl(u.params, "transport=tls;lr");
	assert_pl(u.headers, "Subject=hi&X=%20y");
	struct pl v;
	assert_true(sip_param_get(u.params, "LR", &v));
	assert_int_equal(v.l, 0);
	assert_true(sip_param_get(u.params, "transport", &v));
	assert_pl(v, "tls");
	assert_false(sip_param_get(u.params, "maddr", &v));

	assert_int_equal(sip_uri_parse(&u, pl_from("SIP:192.0.2.1")), 0);
	assert_pl(u.host, "192.0.2.1");
	assert_null(u.user.p);
	assert_int_equal(sip_uri_parse(&u, pl_from("tel:+1-201-555-0123;phone-context=x")), 0);
	assert_pl(u.user, "+1-201-555-0123");
	assert_pl(u.params, "phone-context=x");

	static const char *const bad[] = {
		"", "sip", "sip:", ":x", "1sip:a@b", "sip:a@", "sip:@b", "sip:a b@c", "sip:a@b c",
		"sip:a@b:", "sip:a@b:0", "sip:a@b:65536", "sip:a@b:123456", "sip:a@[]", "sip:a@[::1",
		"sip:a@[zz::1]", "sip:a@b;;x", "sip:a@b;=x", "sip:a@b?", "sip:a%4@b", "sip:a%G1@b",
		"sip:a@b>", "<sip:a@b>", "sip:2001:db8::10", "tel:", "tel:12 34", "http:a b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_uri_parse(&u, pl_from(bad[i])) != EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_null(u.scheme.p);
	}
	assert_int_equal(sip_uri_parse(NULL, pl_from("sip:a@b")), EINVAL);
	assert_int_equal(sip_uri_parse(&u, PL_NULL), EINVAL);
}

static void test_addr_parse(void **state)
{
	(void)state;
	struct sip_addr a;
	assert_int_equal(sip_addr_parse(&a, pl_from("  *  ")), 0);
	assert_true(a.star);
	assert_int_equal(sip_addr_parse(&a, pl_from("Bob <sips:bob@example.com;transport=tcp> ;tag = x1 ;expires=\"a;b\"")), 0);
	assert_pl(a.dname, "Bob");
	assert_pl(a.uri_raw, "sips:bob@example.com;transport=tcp");
	assert_pl(a.uri.params, "transport=tcp");
	assert_pl(a.tag, "x1");
	struct pl v;
	assert_true(sip_param_get(a.params, "expires", &v));
	assert_pl(v, "\"a;b\"");
	assert_int_equal(sip_addr_parse(&a, pl_from("sip:b@example.com;tag=7")), 0);
	assert_null(a.dname.p);
	assert_pl(a.uri_raw, "sip:b@example.com");
	assert_pl(a.tag, "7");
	assert_int_equal(sip_addr_parse(&a, pl_from("\"\" <sip:b@example.com>")), 0);
	assert_int_equal(a.dname.l, 0);
	assert_int_equal(sip_addr_parse(&a, pl_from("<urn:service:sos>")), 0);
	assert_pl(a.uri.scheme, "urn");

	static const char *const bad[] = {
		"", "\"open <sip:a@b>", "sip:a@b?x=y", "Bell, A <sip:a@b>", "< sip:a@b>",
		"<sip:a@b >", "<sip:a@b", "sip:a@b junk", "<sip:a@b>;;", "<sip:a@b>;=x",
		"<sip:a@b>;tag=", "<sip:a@b>;t=\"x", "\"x\" sip:a@b", "<sip:a@b> x",
		"<>", "noscheme", "* *",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sip_addr_parse(&a, pl_from(bad[i])) != EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
}

static void test_via_parse(void **state)
{
	(void)state;
	struct sip_via v;
	assert_int_equal(sip_via_parse(&v, pl_from("SIP / 2.0 / TLS [::1] : 5061 ; branch = z9hG4bKa ; rport ; received=10.0.0.1")), 0);
	assert_pl(v.proto, "SIP / 2.0");
	assert_pl(v.transport, "TLS");
	assert_pl(v.host, "::1");
	assert_true(v.ipv6);
	assert_int_equal(v.port, 5061);
	assert_pl(v.branch, "z9hG4bKa");
	assert_true(v.rport);
	assert_int_equal(v.rport_val.l, 0);
	assert_pl(v.received, "10.0.0.1");
	assert_int_equal(sip_via_parse(&v, pl_from("SIP/2.0/UDP h.example.com;rport=5062")), 0);
	assert_pl(v.proto, "SIP/2.0");
	assert_pl(v.rport_val, "5062");
	assert_int_equal(sip_via_parse(&v, pl_from("SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK")), 0);

	static const char *const bad[] = {
		"", "SIP/2.0/UDP", "SIP/2.0 UDP h", "SIP/2.0/UDPh", "SIP//UDP h", "SIP/2.0/UDP h;;",
		"SIP/2.0/UDP h:x", "SIP/2.0/UDP h x", "SIP/2.0/UDP [1::2", "SIP/2.0/UDP h;a=",
		"SIP/2.0/UDP h,", "/2.0/UDP h",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_via_parse(&v, pl_from(bad[i])) != EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_null(v.host.p);
	}
}

static void test_unescape(void **state)
{
	(void)state;
	char b[8];
	assert_int_equal(sip_unescape(pl_from("a%41%62"), b, sizeof(b)), 3);
	assert_string_equal(b, "aAb");
	assert_int_equal(sip_unescape(pl_from(""), b, sizeof(b)), 0);
	assert_int_equal(sip_unescape(pl_from("%4"), b, sizeof(b)), -1);
	assert_int_equal(sip_unescape(pl_from("%zz"), b, sizeof(b)), -1);
	assert_int_equal(sip_unescape(pl_from("1234567"), b, sizeof(b)), 7);
	assert_int_equal(sip_unescape(pl_from("12345678"), b, sizeof(b)), -1);
	assert_int_equal(sip_unescape(pl_from("x"), b, 0), -1);
	assert_int_equal(sip_unescape(pl_from("x"), NULL, 4), -1);
}

static void test_uri_equal(void **state)
{
	(void)state;
	/* RFC 3261 19.1.4, the equivalent pairs ... */
	static const char *const same[][2] = {
		{ "sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp" },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5" },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com;security=on" },
		{ "sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on" },
		{ "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		  "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com" },
		{ "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		  "sip:alice@atlanta.com?priority=urgent&subject=project%20x" },
		{ "sip:a@[2001:db8::1]", "sip:a@[2001:DB8:0::1]" },
		/* found by fuzzing: a repeated parameter must not make a URI
		 * differ from itself (the first value counts) */
		{ "sip:u@h;tag=1;tag=2", "sip:u@h;tag=1;tag=2" },
	};
	/* ... and the ones that are not. */
	static const char *const differ[][2] = {
		{ "SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP" },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:5060" },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp" },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp" },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting" },
		{ "sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4" },
		{ "sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off" },
		{ "sip:a@b.com", "sips:a@b.com" },
		{ "sip:a@b.com", "sip:a:pw@b.com" },
		{ "sip:a%3Bb@c.com", "sip:a;b@c.com" }, /* escaped reserved stays distinct */
		{ "sip:null-%00-null@example.com", "sip:null-@example.com" },
	};
	struct sip_uri a, b;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(sip_uri_parse(&a, pl_from(same[i][0])), 0);
		assert_int_equal(sip_uri_parse(&b, pl_from(same[i][1])), 0);
		if (!sip_uri_equal(&a, &b) || !sip_uri_equal(&b, &a))
			fail_msg("%s != %s", same[i][0], same[i][1]);
	}
	for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		assert_int_equal(sip_uri_parse(&a, pl_from(differ[i][0])), 0);
		assert_int_equal(sip_uri_parse(&b, pl_from(differ[i][1])), 0);
		if (sip_uri_equal(&a, &b) || sip_uri_equal(&b, &a))
			fail_msg("%s == %s", differ[i][0], differ[i][1]);
	}
	assert_false(sip_uri_equal(&a, NULL));
}

/* --- framing ------------------------------------------------------------ */

static void test_frame(void **state)
{
	(void)state;
	size_t n = 0;
	const char *two = "OPTIONS sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabcINVITE sip:x SIP/2.0\r\n";
	assert_int_equal(sip_msg_frame(two, strlen(two), &n), 0);
	assert_int_equal(n, strlen("OPTIONS sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabc"));
	assert_int_equal(sip_msg_frame(two + n, strlen(two) - n, &n), EAGAIN);

	/* Keep-alives come out on their own; a lone CR waits. */
	assert_int_equal(sip_msg_frame("\r\n\r\nOPTIONS", 11, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(sip_msg_frame("\r\n", 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sip_msg_frame("\r\n\r", 3, &n), EAGAIN);
	assert_int_equal(sip_msg_frame("", 0, &n), EAGAIN);

	/* Every prefix of a message is incomplete. */
	const char *one = "SIP/2.0 200 OK\r\nContent-Length :\r\n  5\r\nX: y\r\n\r\nhello";
	for (size_t i = 1; i < strlen(one); i++)
		assert_int_equal(sip_msg_frame(one, i, &n), EAGAIN);
	assert_int_equal(sip_msg_frame(one, strlen(one), &n), 0);
	assert_int_equal(n, strlen(one));

	/* LF-only line ends frame too. */
	assert_int_equal(sip_msg_frame("OPTIONS x SIP/2.0\nl:0\n\nZ", 24, &n), 0);
	assert_int_equal(n, 23);

	static const struct {
		const char *s;
		int err;
	} cases[] = {
		{ "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", EBADMSG },      /* no length */
		{ "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n", EBADMSG },
		{ "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1e3\r\n\r\n", EBADMSG },
		{ "OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n\r\n", EBADMSG },
		{ "OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nab", EBADMSG },
		{ "OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\nContent-length: 2\r\n\r\nab", 0 },
		{ "OPTIONS sip:a@b SIP/2.0\r\nl: 65536\r\n\r\n", EMSGSIZE },
		{ "OPTIONS sip:a@b SIP/2.0\r\nl: 65500\r\n\r\n", EMSGSIZE },
		{ "OPTIONS sip:a@b SIP/2.0\r\nl: 99999999999999999999999999\r\n\r\n", EMSGSIZE },
		{ "OPTIONS sip:a@b SIP/2.0\r\nX-Content-Length: 1\r\nl: 0\r\n\r\n", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = sip_msg_frame(cases[i].s, strlen(cases[i].s), &n);
		if (err != cases[i].err)
			fail_msg("case %zu: %d, expected %d", i, err, cases[i].err);
	}

	/* A header section that never ends. */
	char *big = malloc(SIP_MAX_MSG + 10);
	assert_non_null(big);
	memset(big, 'a', SIP_MAX_MSG + 10);
	assert_int_equal(sip_msg_frame(big, 1000, &n), EAGAIN);
	assert_int_equal(sip_msg_frame(big, SIP_MAX_MSG + 10, &n), EBADMSG);
	free(big);
	assert_int_equal(sip_msg_frame(NULL, 1, &n), EINVAL);
}

/* --- building ----------------------------------------------------------- */

static void test_build_response(void **state)
{
	(void)state;
	struct sip_msg *req = parse_str(
		"INVITE sip:bob@example.com SIP/2.0\r\n"
		"v: SIP/2.0/UDP 10.0.0.1:5060 ;branch=z9hG4bK1;rport, SIP/2.0/TCP p.example.com;branch=z9hG4bK0\r\n"
		"Max-Forwards: 70\r\n"
		"f: <sip:alice@example.com>;tag=a1\r\n"
		"t: <sip:bob@example.com>\r\n"
		"i: call1@10.0.0.1\r\n"
		"CSeq: 1 INVITE\r\n"
		"l: 0\r\n\r\n");
	struct sbuf b;
	sbuf_init(&b);
	sip_msg_build_response(&b, req, 180, NULL, "t2", "192.0.2.7", 40000);
	sip_msg_build_end(&b, NULL, NULL, 0);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p,
			    "SIP/2.0 180 Ringing\r\n"
			    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.7\r\n"
			    "Via: SIP/2.0/TCP p.example.com;branch=z9hG4bK0\r\n"
			    "From: <sip:alice@example.com>;tag=a1\r\n"
			    "To: <sip:bob@example.com>;tag=t2\r\n"
			    "Call-ID: call1@10.0.0.1\r\n"
			    "CSeq: 1 INVITE\r\n"
			    "Content-Length: 0\r\n\r\n");
	/* The response parses, and its top Via says where to send it. */
	struct sip_msg *resp = parse_str(b.p);
	assert_valid(resp, "response");
	assert_int_equal(resp->status, 180);
	assert_pl(resp->via.received, "192.0.2.7");
	assert_pl(resp->via.rport_val, "40000");
	assert_pl(resp->to.tag, "t2");
	sip_msg_free(resp);

	/* Same host, no rport: the Via goes back untouched; To keeps its tag. */
	sip_msg_free(req);
	req = parse_str("BYE sip:bob@example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK2\r\n"
			"From: <sip:alice@example.com>;tag=a1\r\n"
			"To: <sip:bob@example.com>;tag=b1\r\n"
			"Call-ID: c2\r\nCSeq: 2 BYE\r\n\r\n");
	sbuf_reset(&b);
	sip_msg_build_response(&b, req, 200, "Fine", "zz", "[2001:db8:0::1]", 5060);
	sip_msg_build_end(&b, "text/plain", "hi", 2);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p,
			    "SIP/2.0 200 Fine\r\n"
			    "Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK2\r\n"
			    "From: <sip:alice@example.com>;tag=a1\r\n"
			    "To: <sip:bob@example.com>;tag=b1\r\n"
			    "Call-ID: c2\r\n"
			    "CSeq: 2 BYE\r\n"
			    "Content-Type: text/plain\r\n"
			    "Content-Length: 2\r\n\r\nhi");

	/* Other host: received added, an old received replaced. */
	sbuf_reset(&b);
	sip_msg_free(req);
	req = parse_str("OPTIONS sip:b@example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP host.example.com;received=1.1.1.1;branch=z9hG4bK3;rport=7\r\n"
			"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
			"Call-ID: c3\r\nCSeq: 3 OPTIONS\r\n\r\n");
	sip_msg_build_response(&b, req, 404, NULL, NULL, "203.0.113.9", 5060);
	assert_string_equal(b.p, "SIP/2.0 404 Not Found\r\n"
				 "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK3;rport=7;received=203.0.113.9\r\n"
				 "From: <sip:a@example.com>;tag=1\r\n"
				 "To: <sip:b@example.com>\r\n"
				 "Call-ID: c3\r\n"
				 "CSeq: 3 OPTIONS\r\n");
	/* No source given: copied as is. */
	sbuf_reset(&b);
	sip_msg_build_response(&b, req, 500, NULL, NULL, NULL, 0);
	assert_non_null(strstr(b.p, "Via: SIP/2.0/UDP host.example.com;received=1.1.1.1;branch=z9hG4bK3;rport=7\r\n"));
	sip_msg_free(req);

	/* A torture message answered: badvers gets its 505 routed back. */
	req = parse_file("badvers", 0);
	sbuf_reset(&b);
	sip_msg_build_response(&b, req, req->error_status, req->error, "t", "192.0.2.99", 5060);
	sip_msg_build_end(&b, NULL, NULL, 0);
	resp = parse_str(b.p);
	assert_int_equal(resp->status, 505);
	assert_pl(resp->reason, "Version Not Supported");
	assert_pl(resp->via.received, "192.0.2.99");
	assert_pl(resp->to.tag, "t");
	sip_msg_free(resp);
	sip_msg_free(req);

	/* Values are copied as bytes: intmeth's To carries a quoted NUL. */
	req = parse_file("intmeth", 0);
	sbuf_reset(&b);
	sip_msg_build_response(&b, req, 501, NULL, "t9", "192.0.2.99", 5060);
	sip_msg_build_end(&b, NULL, NULL, 0);
	assert_non_null(memmem(b.p, b.len, "DEL:\\\x7f\" <sip:1_unusual", 20));
	resp = NULL;
	assert_int_equal(sip_msg_parse(&resp, b.p, b.len), 0);
	assert_valid(resp, "intmeth response");
	assert_int_equal(resp->to.dname.l, 20);
	assert_pl(resp->to.tag, "t9");
	sip_msg_free(resp);
	sip_msg_free(req);

	sbuf_reset(&b);
	sip_msg_build_response(&b, NULL, 200, NULL, NULL, NULL, 0);
	assert_int_equal(b.err, EINVAL);
	sbuf_free(&b);
}

static void test_reason_phrase(void **state)
{
	(void)state;
	assert_string_equal(sip_reason_phrase(200), "OK");
	assert_string_equal(sip_reason_phrase(416), "Unsupported URI Scheme");
	assert_string_equal(sip_reason_phrase(505), "Version Not Supported");
	assert_string_equal(sip_reason_phrase(499), "Bad Request");
	assert_string_equal(sip_reason_phrase(999), "Unknown");
}

int main(int argc, char **argv)
{
	const char *dir = getenv("HF_TORTURE_DIR");
	if (dir)
		snprintf(data_dir, sizeof(data_dir), "%s", dir);
	(void)argc;
	(void)argv;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_verdicts),
		cmocka_unit_test(test_corpus_framing),
		cmocka_unit_test(test_wsinv),
		cmocka_unit_test(test_intmeth),
		cmocka_unit_test(test_esc01_escnull_esc02),
		cmocka_unit_test(test_valid_misc),
		cmocka_unit_test(test_application_layer),
		cmocka_unit_test(test_invalid_details),
		cmocka_unit_test(test_rfc5118),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_answerable_errors),
		cmocka_unit_test(test_uri_parse),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_via_parse),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_uri_equal),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_build_response),
		cmocka_unit_test(test_reason_phrase),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
