/* Unit tests for SIP dialogs (core/sip/dialog.c): state taken from an
 * INVITE (UAS) and from responses (UAC), in-dialog requests built with
 * the right tags, CSeq, target and route set, and CSeq checking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../core/sip/dialog.h"
#include "../../core/sip/msg.h"

static struct sip_msg *parse(const char *s)
{
	struct sip_msg *m = NULL;
	assert_int_equal(sip_msg_parse(&m, s, strlen(s)), 0);
	assert_null(m->error);
	return m;
}

static const char invite[] =
	"INVITE sip:1002@pbx SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc\r\n"
	"Record-Route: <sip:p1;lr>\r\n"
	"Record-Route: <sip:p2;lr>\r\n"
	"From: \"Alice\" <sip:1001@pbx>;tag=a1;x=y\r\n"
	"To: <sip:1002@pbx>\r\n"
	"Call-ID: cid-1\r\n"
	"CSeq: 10 INVITE\r\n"
	"Contact: <sip:1001@10.0.0.1:5060>\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n\r\n";

static struct sip_peer peer;

static void test_uas(void **state)
{
	(void)state;
	struct sip_msg *m = parse(invite);
	struct sip_dialog d;
	assert_int_equal(sip_dialog_uas_init(&d, m, &peer, "loc", "sip:hf@192.0.2.1:5060"), 0);
	assert_string_equal(d.call_id, "cid-1");
	assert_string_equal(d.remote_tag, "a1");
	assert_string_equal(d.remote_hdr, "\"Alice\" <sip:1001@pbx>;x=y");
	assert_string_equal(d.local_hdr, "<sip:1002@pbx>");
	assert_string_equal(d.remote_target, "sip:1001@10.0.0.1:5060");
	assert_string_equal(d.routes, "Route: <sip:p1;lr>\r\nRoute: <sip:p2;lr>\r\n");

	struct sbuf b;
	sbuf_init(&b);
	char branch[40];
	assert_int_equal(sip_dialog_request(&d, &b, "BYE", 0, "SIP/2.0/UDP 192.0.2.1:5060",
					    branch, NULL, NULL, NULL, 0), 0);
	struct sip_msg *bye = parse(b.p);
	assert_true(pl_eq(bye->method, PL("BYE")));
	assert_true(pl_eq(bye->ruri_raw, PL("sip:1001@10.0.0.1:5060")));
	assert_true(pl_eq(bye->from.tag, PL("loc")));   /* ours */
	assert_true(pl_eq(bye->to.tag, PL("a1")));      /* theirs */
	assert_int_equal(bye->cseq.num, 1);
	assert_true(pl_eq(bye->via.branch, pl_from(branch)));
	assert_int_equal(strncmp(branch, "z9hG4bK", 7), 0);
	assert_int_equal(sip_msg_hdr_count(bye, SIP_HDR_ROUTE), 2);
	sip_msg_free(bye);

	/* the peer's next request must have a higher CSeq */
	static const char bye_in[] =
		"BYE sip:hf@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
		"From: <sip:1001@pbx>;tag=a1\r\nTo: <sip:1002@pbx>;tag=loc\r\nCall-ID: cid-1\r\n"
		"CSeq: %d BYE\r\nContent-Length: 0\r\n\r\n";
	char txt[512];
	snprintf(txt, sizeof(txt), bye_in, 10);
	struct sip_msg *r = parse(txt);
	assert_true(sip_dialog_match_request(&d, r));
	assert_int_equal(sip_dialog_accept_request(&d, r), EALREADY);
	sip_msg_free(r);
	snprintf(txt, sizeof(txt), bye_in, 11);
	r = parse(txt);
	assert_int_equal(sip_dialog_accept_request(&d, r), 0);
	sip_msg_free(r);

	sbuf_free(&b);
	sip_msg_free(m);
}

static void test_uac(void **state)
{
	(void)state;
	struct sip_dialog d;
	assert_int_equal(sip_dialog_uac_init(&d, "cid-2@hf", "t1", "\"Bob\" <sip:1001@pbx>",
					     "<sip:1002@pbx>", "sip:1002@10.0.0.2", &peer,
					     "sip:hf@192.0.2.1"), 0);
	struct sbuf b;
	sbuf_init(&b);
	assert_int_equal(sip_dialog_request(&d, &b, "INVITE", 0, "SIP/2.0/UDP 192.0.2.1:5060",
					    NULL, NULL, "application/sdp", "v=0\r\n", 5), 0);
	struct sip_msg *inv = parse(b.p);
	assert_null(inv->to.tag.p);
	assert_int_equal(inv->cseq.num, 1);
	assert_true(pl_eq(inv->body, PL("v=0\r\n")));
	assert_true(pl_eq(inv->content_type, PL("application/sdp")));
	sip_msg_free(inv);

	static const char ok[] =
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKq\r\n"
		"Record-Route: <sip:r1;lr>\r\nRecord-Route: <sip:r2;lr>\r\n"
		"From: \"Bob\" <sip:1001@pbx>;tag=t1\r\nTo: <sip:1002@pbx>;tag=rt\r\n"
		"Call-ID: cid-2@hf\r\nCSeq: 1 INVITE\r\nContact: <sip:1002@10.0.0.9:5070>\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_msg *resp = parse(ok);
	assert_int_equal(sip_dialog_uac_update(&d, resp), 0);
	assert_true(d.confirmed);
	assert_string_equal(d.remote_tag, "rt");
	assert_string_equal(d.remote_target, "sip:1002@10.0.0.9:5070");
	/* reversed for the UAC (12.1.2) */
	assert_string_equal(d.routes, "Route: <sip:r2;lr>\r\nRoute: <sip:r1;lr>\r\n");

	sbuf_reset(&b);
	assert_int_equal(sip_dialog_request(&d, &b, "ACK", 1, "SIP/2.0/UDP 192.0.2.1:5060", NULL,
					    NULL, NULL, NULL, 0), 0);
	struct sip_msg *ack = parse(b.p);
	assert_int_equal(ack->cseq.num, 1);
	assert_true(pl_eq(ack->to.tag, PL("rt")));
	assert_null(sip_msg_hdr(ack, SIP_HDR_CONTACT)); /* no Contact in ACK */
	sip_msg_free(ack);

	sbuf_reset(&b);
	assert_int_equal(sip_dialog_request(&d, &b, "BYE", 0, "SIP/2.0/UDP 192.0.2.1:5060", NULL,
					    NULL, NULL, NULL, 0), 0);
	struct sip_msg *bye = parse(b.p);
	assert_int_equal(bye->cseq.num, 2);
	assert_true(pl_eq(bye->ruri_raw, PL("sip:1002@10.0.0.9:5070")));
	sip_msg_free(bye);

	sip_msg_free(resp);
	sbuf_free(&b);
}

static void test_refuses_oversized(void **state)
{
	(void)state;
	struct sip_dialog d;
	char big[600];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sip_dialog_uac_init(&d, "c", "t", big, "<sip:x@y>", "sip:x@y", &peer, "sip:h@z"),
			 ENAMETOOLONG);
	/* a response without a To tag cannot make a dialog */
	static const char noto[] =
		"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nFrom: <sip:a@b>;tag=t\r\n"
		"To: <sip:c@d>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sip_dialog_uac_init(&d, "c", "t", "<sip:a@b>", "<sip:c@d>", "sip:c@d", &peer, "sip:h@z"), 0);
	struct sip_msg *r = parse(noto);
	assert_int_equal(sip_dialog_uac_update(&d, r), EBADMSG);
	sip_msg_free(r);
}

/* A From without a tag (RFC 2543 style): the dialog has an empty remote
 * tag. The copy used to hand memchr and memcpy the absent value's NULL
 * pointer (undefined behaviour UBSan reports; found by fuzz_call). */
static void test_uas_from_without_tag(void **state)
{
	(void)state;
	static const char notag[] =
		"INVITE sip:1002@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnt\r\n"
		"From: <sip:1001@pbx>;tag0a\r\nTo: <sip:1002@pbx>\r\nCall-ID: cid-nt\r\n"
		"CSeq: 1 INVITE\r\nContact: <sip:1001@10.0.0.1>\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg *m = parse(notag);
	struct sip_dialog d;
	assert_int_equal(sip_dialog_uas_init(&d, m, &peer, "loc", "sip:hf@192.0.2.1:5060"), 0);
	assert_string_equal(d.remote_tag, "");
	sip_msg_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uas),
		cmocka_unit_test(test_uac),
		cmocka_unit_test(test_refuses_oversized),
		cmocka_unit_test(test_uas_from_without_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
