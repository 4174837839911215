/*
 * Unit tests for SIP messages outside the torture corpus
 * (core/sip/msg_parse.c, msg_frame.c, msg_build.c): what the parser
 * refuses outright, the header forms it accepts (compact names, LF-only
 * lines, folding, lists), the errors it reports for a 400 answer, stream
 * framing, response building (Via received/rport, To tag, body) and reason
 * phrases. The corpus itself is in test_sip_torture.c, the value parsers
 * in test_sip_uri.c.
 */
#include "sip_test_util.h"

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

	/* More Vias than SIP_MAX_HDRS cannot be answered faithfully. */
	char *many = malloc(SIP_MAX_MSG);
	assert_non_null(many);
	int n = snprintf(many, SIP_MAX_MSG, "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD);
	for (int i = 0; i < SIP_MAX_HDRS; i++)
		n += snprintf(many + n, (size_t)(SIP_MAX_MSG - n), "Via: SIP/2.0/UDP h%d;branch=z9hG4bK%d\r\n", i, i);
	n += snprintf(many + n, (size_t)(SIP_MAX_MSG - n), "\r\n");
	assert_int_equal(sip_msg_parse(&m, many, (size_t)n), EBADMSG);
	free(many);
}

/* Past the header-count limit and the header-line limit, a request is
 * answered 400 naming the limit (it used to be dropped in silence, or
 * for a long line taken as valid); a response is dropped. */
static void test_limits_answered(void **state)
{
	(void)state;
	struct sip_msg *m = NULL;
	char *buf = malloc(SIP_MAX_MSG);
	assert_non_null(buf);
	int n = snprintf(buf, SIP_MAX_MSG, "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD);
	for (int i = 0; i < SIP_MAX_HDRS; i++)
		n += snprintf(buf + n, (size_t)(SIP_MAX_MSG - n), "X-H%d: %d\r\n", i, i);
	n += snprintf(buf + n, (size_t)(SIP_MAX_MSG - n), "\r\n");
	assert_int_equal(sip_msg_parse(&m, buf, (size_t)n), 0);
	assert_string_equal(m->error, "Too Many Headers");
	assert_int_equal(m->error_status, 400);
	/* what the 400 copies is there */
	assert_true(pl_eq(m->call_id, PL("c1@example.com")));
	assert_int_equal(m->cseq.num, 1);
	assert_int_equal(sip_msg_hdr_count(m, SIP_HDR_VIA), 1);
	assert_true(m->nhdrs <= SIP_MAX_HDRS);
	sip_msg_free(m);
	m = NULL;
	/* the same as a response: nobody answers it, so it is dropped */
	n = snprintf(buf, SIP_MAX_MSG, "SIP/2.0 200 OK\r\n" REQ_HEAD);
	for (int i = 0; i < SIP_MAX_HDRS; i++)
		n += snprintf(buf + n, (size_t)(SIP_MAX_MSG - n), "X-H%d: %d\r\n", i, i);
	n += snprintf(buf + n, (size_t)(SIP_MAX_MSG - n), "\r\n");
	assert_int_equal(sip_msg_parse(&m, buf, (size_t)n), EBADMSG);

	/* One header line of 60,000 bytes. */
	n = snprintf(buf, SIP_MAX_MSG, "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD "X-Long: ");
	memset(buf + n, 'a', 60000);
	n += 60000;
	n += snprintf(buf + n, (size_t)(SIP_MAX_MSG - n), "\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(sip_msg_parse(&m, buf, (size_t)n), 0);
	assert_string_equal(m->error, "Header Too Long");
	assert_int_equal(m->error_status, 400);
	sip_msg_free(m);
	m = NULL;
	/* The limit is on the logical (unfolded) line: the name, the colon
	 * and the value up to SIP_MAX_HDR_LINE bytes pass, one more does not. */
	for (int extra = 0; extra <= 1; extra++) {
		int h = snprintf(buf, SIP_MAX_MSG, "OPTIONS sip:b@example.com SIP/2.0\r\n" REQ_HEAD);
		int v = snprintf(buf + h, (size_t)(SIP_MAX_MSG - h), "X-Fold: ");
		int fill = SIP_MAX_HDR_LINE - v + extra;
		memset(buf + h + v, 'b', (size_t)fill);
		memcpy(buf + h + v + fill / 2, "\r\n ", 3); /* folded in the middle */
		n = h + v + fill;
		n += snprintf(buf + n, (size_t)(SIP_MAX_MSG - n), "\r\n\r\n");
		assert_int_equal(sip_msg_parse(&m, buf, (size_t)n), 0);
		if (extra)
			assert_string_equal(m->error, "Header Too Long");
		else if (m->error)
			fail_msg("a line of exactly the limit: %s", m->error);
		sip_msg_free(m);
		m = NULL;
	}
	free(buf);
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

/* The resumable framer, fed one byte more at a time as a trickling peer
 * would, agrees with a fresh scan at every length, including when the
 * empty line or its CR/LF pairs are split between reads. */
static void test_frame_resume(void **state)
{
	(void)state;
	static const char *const msgs[] = {
		"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nContent-Length: 3\r\n\r\nabcNEXT",
		"OPTIONS x SIP/2.0\nl:0\n\nZ",
		"OPTIONS x SIP/2.0\r\nl: 0\n\r\n",
		"OPTIONS x SIP/2.0\r\nX: 1\r\n\tfolded\r\nl:2\r\n\r\nxy",
		"\r\n\r\nOPTIONS x SIP/2.0\r\nl:0\r\n\r\n",
		"OPTIONS x SIP/2.0\r\nX: 1\r\n\r\n", /* no Content-Length */
		"OPTIONS x SIP/2.0\r\nl: 99999999\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		const char *m = msgs[i];
		size_t len = strlen(m);
		struct sip_frame_state st = { 0 };
		for (size_t l = 1; l <= len; l++) {
			size_t want_n = 0, got_n = 0;
			int want = sip_msg_frame(m, l, &want_n);
			int got = sip_msg_frame_next(&st, m, l, &got_n);
			if (got != want || (!got && got_n != want_n))
				fail_msg("message %zu, %zu bytes: resumed %d/%zu, fresh %d/%zu", i, l, got,
					 got_n, want, want_n);
			if (got != EAGAIN)
				break;
		}
	}
	/* 60 KB of unfinished headers, then byte by byte: each call looks
	 * only at the new bytes (the state says how far the search got). */
	static char big[SIP_MAX_MSG];
	size_t n = (size_t)snprintf(big, sizeof(big), "OPTIONS x SIP/2.0\r\n");
	while (n + 6 < 60000)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "a:b\r\n");
	struct sip_frame_state st = { 0 };
	size_t out;
	assert_int_equal(sip_msg_frame_next(&st, big, n, &out), EAGAIN);
	assert_true(st.scanned >= n - 2);
	memcpy(big + n, "l:0\r\n\r\n", 7);
	for (size_t k = 1; k < 7; k++) {
		assert_int_equal(sip_msg_frame_next(&st, big, n + k, &out), EAGAIN);
		assert_true(st.scanned >= n + k - 2);
	}
	assert_int_equal(sip_msg_frame_next(&st, big, n + 7, &out), 0);
	assert_int_equal(out, n + 7);
	assert_int_equal(st.scanned, 0); /* ready for the next message */
	assert_int_equal(sip_msg_frame_next(NULL, big, 1, &out), EINVAL);
}

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

int main(void)
{
	torture_dir_from_env();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_limits_answered),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_answerable_errors),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_frame_resume),
		cmocka_unit_test(test_build_response),
		cmocka_unit_test(test_reason_phrase),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
