/*
 * Message waiting (core/mwi): the RFC 3842 body, and SUBSCRIBE/NOTIFY
 * flows through the real dispatch, transaction layer and transport on the
 * call harness's fake clock (tests/unit/call_harness.h): subscribe, the
 * immediate NOTIFY, a change, refresh, unsubscribe, expiry, a NOTIFY
 * refused with 481, the checks (401, 403, 423, 489, 481), one NOTIFY in
 * flight at a time, a subscription saved and restored as after a
 * restart, and unsolicited NOTIFYs to registered phones. The counts come from a fake the test sets (t_new, t_old),
 * except in the last test, which goes through the PBX's own reader on
 * the real store thread.
 */
#include "call_harness.h"

#include "../../core/mwi/mwi.h"
#include "../../db/mwi.h"

/* --- fake counts ------------------------------------------------------------ */

static int t_new, t_old, t_asks;

static void fake_counts(const char *mailbox, mwi_counts_done_h *done, void *arg, void *deps_arg)
{
	(void)mailbox;
	(void)deps_arg;
	t_asks++;
	done(t_new, t_old, arg);
}

static struct mwi_deps mdeps(void)
{
	struct pbx *p = &hx.pbx;
	struct mwi_deps d = {
		.loop = fx.loop, .store = p->store, .tp = p->tp, .tsx = fx.tl, .authn = &p->authn,
		.exts = &p->exts, .conf = &p->conf, .counts = fake_counts, .deps_arg = p,
	};
	return d;
}

static int setup_mwi(void **state)
{
	ch_setup(state);
	t_new = t_old = t_asks = 0;
	struct mwi_deps d = mdeps();
	assert_int_equal(mwi_alloc(&hx.pbx.mwi, &d), 0);
	return 0;
}

static int teardown_mwi(void **state)
{
	mwi_free(hx.pbx.mwi);
	hx.pbx.mwi = NULL;
	return ch_teardown(state);
}

/* --- the phone's side ---------------------------------------------------------- */

/* A SUBSCRIBE outside any dialog from phone p, for the account `user`
 * (Request-URI) with To `to_user`; expires < 0 leaves Expires out. d
 * becomes the phone's side of the subscription dialog. */
static void subscribe(struct ch_phone *p, struct ch_dlg *d, const char *user, const char *to_user,
		      int expires, const char *event)
{
	memset(d, 0, sizeof(*d));
	unsigned n = ++hx.counter;
	d->peer = p->peer;
	snprintf(d->call_id, sizeof(d->call_id), "sub-%u-%s@%s", n, p->name, p->ip);
	snprintf(d->local_uri, sizeof(d->local_uri), "sip:%s@%s", p->ext, CH_HOST);
	snprintf(d->local_tag, sizeof(d->local_tag), "%s-sub-%u", p->name, n);
	snprintf(d->remote_uri, sizeof(d->remote_uri), "sip:%s@%s", to_user, CH_HOST);
	snprintf(d->target, sizeof(d->target), "sip:%s@%s", user, CH_HOST);
	d->cseq = 1;
	char exp[32] = "";
	if (expires >= 0)
		snprintf(exp, sizeof(exp), "Expires: %d\r\n", expires);
	char t[2048];
	snprintf(t, sizeof(t),
		 "SUBSCRIBE %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-s%u;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <%s>;tag=%s\r\n"
		 "To: <%s>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 SUBSCRIBE\r\n"
		 "Contact: <sip:%s@%s:5060>\r\n"
		 "Event: %s\r\n"
		 "Accept: application/simple-message-summary\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 d->target, p->ip, p->name, n, d->local_uri, d->local_tag, d->remote_uri,
		 d->call_id, p->ext, p->ip, event, exp);
	ch_feed(p, t);
}

/* An in-dialog SUBSCRIBE (refresh, or unsubscribe with 0). */
static void resubscribe(struct ch_dlg *d, int expires)
{
	char extra[96];
	snprintf(extra, sizeof(extra), "Event: message-summary\r\nExpires: %d\r\n", expires);
	phone_req_ex(d, "SUBSCRIBE", NULL, extra);
}

/* The 200 to a SUBSCRIBE: granted expiry, our tag (learnt into d) and
 * a Contact (the NOTIFY's sender, the phone's next target). */
static void expect_sub_ok(struct ch_phone *p, struct ch_dlg *d, unsigned expires)
{
	const struct sip_msg *r = expect_response_to(p, 200, "SUBSCRIBE");
	char e[16];
	snprintf(e, sizeof(e), "%u", expires);
	assert_string_equal(msg_hdr(r, "Expires"), e);
	assert_true(r->to.tag.l > 0);
	assert_non_null(sip_msg_hdr(r, SIP_HDR_CONTACT));
	ch_learn(d, r);
}

/* The next message to p is a NOTIFY in dialog d with this state and the
 * counts in its body; the phone answers it with status. */
static const struct sip_msg *expect_notify(struct ch_phone *p, const struct ch_dlg *d,
					   const char *state, int new_msgs, int old_msgs,
					   uint16_t status)
{
	const struct sip_msg *n = expect_request(p, "NOTIFY");
	assert_true(pl_eq(n->call_id, pl_from(d->call_id)));
	assert_true(pl_eq(n->to.tag, pl_from(d->local_tag)));
	assert_true(pl_eq(n->from.tag, pl_from(d->remote_tag)));
	assert_string_equal(msg_hdr(n, "Event"), "message-summary");
	assert_string_equal(msg_hdr(n, "Subscription-State"), state);
	assert_true(pl_casestr(n->content_type, "application/simple-message-summary"));
	char want[96];
	snprintf(want, sizeof(want), "Messages-Waiting: %s\r\n", new_msgs > 0 ? "yes" : "no");
	if (!body_has(n, want))
		fail_msg("NOTIFY body lacks '%s': %.*s", want, (int)n->body.l, n->body.p);
	snprintf(want, sizeof(want), "Voice-Message: %d/%d (0/0)\r\n", new_msgs, old_msgs);
	if (!body_has(n, want))
		fail_msg("NOTIFY body lacks '%s': %.*s", want, (int)n->body.l, n->body.p);
	if (status)
		answer(n, status, NULL);
	return n;
}

/* Phone A (1001, trusted by address) subscribes for an hour. */
static void a_subscribed(struct ch_dlg *d)
{
	subscribe(PH_A, d, "1001", "1001", -1, "message-summary");
	expect_sub_ok(PH_A, d, 3600);
	const struct sip_msg *n = expect_notify(PH_A, d, "active;expires=3600", 0, 0, 200);
	assert_true(body_has(n, "Message-Account: sip:1001@" CH_HOST "\r\n"));
	expect_none(PH_A);
	assert_int_equal(mwi_count(hx.pbx.mwi), 1);
}

/* --- tests --------------------------------------------------------------------- */

/* RFC 3842 5.2's example (without the urgent counts we do not keep),
 * and an empty mailbox without an account. */
static void test_body(void **state)
{
	(void)state;
	struct sbuf b;
	sbuf_init(&b);
	mwi_body(&b, "sip:alice@vmail.example.com", 2, 8);
	assert_string_equal(b.p, "Messages-Waiting: yes\r\n"
				 "Message-Account: sip:alice@vmail.example.com\r\n"
				 "Voice-Message: 2/8 (0/0)\r\n");
	sbuf_reset(&b);
	mwi_body(&b, NULL, 0, 3);
	assert_string_equal(b.p, "Messages-Waiting: no\r\nVoice-Message: 0/3 (0/0)\r\n");
	sbuf_reset(&b);
	mwi_body(&b, "", -1, -1); /* unknown counts: nothing waiting */
	assert_string_equal(b.p, "Messages-Waiting: no\r\nVoice-Message: 0/0 (0/0)\r\n");
	sbuf_free(&b);
}

static void test_subscribe_change_unsubscribe(void **state)
{
	(void)state;
	struct ch_dlg d;
	a_subscribed(&d);

	t_new = 2;
	t_old = 1;
	mwi_changed(hx.pbx.mwi, "1002"); /* nobody subscribed to it */
	expect_none(PH_A);
	mwi_changed(hx.pbx.mwi, "1001");
	expect_notify(PH_A, &d, "active;expires=3600", 2, 1, 200);
	expect_none(PH_A);

	/* a refresh gets its 200 and a NOTIFY */
	advance(1000);
	resubscribe(&d, 120);
	expect_sub_ok(PH_A, &d, 120);
	expect_notify(PH_A, &d, "active;expires=120", 2, 1, 200);

	resubscribe(&d, 0);
	expect_sub_ok(PH_A, &d, 0);
	expect_notify(PH_A, &d, "terminated", 2, 1, 200);
	expect_none(PH_A);
	assert_int_equal(mwi_count(hx.pbx.mwi), 0);

	/* the dialog is gone */
	resubscribe(&d, 3600);
	expect_response_to(PH_A, 481, "SUBSCRIBE");
	mwi_changed(hx.pbx.mwi, "1001");
	expect_none(PH_A);
}

static void test_expiry(void **state)
{
	(void)state;
	struct ch_dlg d;
	subscribe(PH_A, &d, "1001", "1001", 60, "message-summary");
	expect_sub_ok(PH_A, &d, 60);
	expect_notify(PH_A, &d, "active;expires=60", 0, 0, 200);
	advance(59000);
	expect_none(PH_A);
	advance(1000);
	expect_notify(PH_A, &d, "terminated;reason=timeout", 0, 0, 200);
	assert_int_equal(mwi_count(hx.pbx.mwi), 0);
	advance(40000); /* the transactions end */
}

/* Expires: 0 on a new SUBSCRIBE fetches the state once. */
static void test_fetch(void **state)
{
	(void)state;
	struct ch_dlg d;
	t_new = 1;
	subscribe(PH_A, &d, "1001", "1001", 0, "message-summary");
	expect_sub_ok(PH_A, &d, 0);
	expect_notify(PH_A, &d, "terminated;reason=timeout", 1, 0, 200);
	assert_int_equal(mwi_count(hx.pbx.mwi), 0);
}

static void test_refusals(void **state)
{
	(void)state;
	struct ch_dlg d;
	/* another extension's mailbox */
	subscribe(PH_A, &d, "1002", "1002", -1, "message-summary");
	expect_response_to(PH_A, 403, "SUBSCRIBE");
	/* an event we do not serve */
	subscribe(PH_A, &d, "1001", "1001", -1, "presence");
	const struct sip_msg *r = expect_response_to(PH_A, 489, "SUBSCRIBE");
	assert_string_equal(msg_hdr(r, "Allow-Events"), "message-summary");
	/* too short */
	subscribe(PH_A, &d, "1001", "1001", 30, "message-summary");
	r = expect_response_to(PH_A, 423, "SUBSCRIBE");
	assert_string_equal(msg_hdr(r, "Min-Expires"), "60");
	/* no credentials, no trusted address: a challenge */
	subscribe(PH_E, &d, "1005", "1005", -1, "message-summary");
	r = expect_response_to(PH_E, 401, "SUBSCRIBE");
	assert_non_null(sip_msg_hdr(r, SIP_HDR_WWW_AUTHENTICATE));
	/* too long is cut to a day; the account may be in To only */
	subscribe(PH_A, &d, "voicemail", "1001", 100000, "message-summary");
	expect_sub_ok(PH_A, &d, 86400);
	expect_notify(PH_A, &d, "active;expires=86400", 0, 0, 200);
	expect_none(PH_A);
	expect_none(PH_E);
	assert_int_equal(t_asks, 1);
}

/* A NOTIFY answered 481: the phone forgot us; no more NOTIFYs. */
static void test_notify_481_ends(void **state)
{
	(void)state;
	struct ch_dlg d;
	subscribe(PH_A, &d, "1001", "1001", -1, "message-summary");
	expect_sub_ok(PH_A, &d, 3600);
	expect_notify(PH_A, &d, "active;expires=3600", 0, 0, 481);
	assert_int_equal(mwi_count(hx.pbx.mwi), 0);
	mwi_changed(hx.pbx.mwi, "1001");
	expect_none(PH_A);
}

/* A phone that never answers a NOTIFY (the transaction times out, RFC
 * 3261 Timer F, like a 408) loses its subscription. */
static void test_notify_timeout_ends(void **state)
{
	(void)state;
	struct ch_dlg d;
	subscribe(PH_A, &d, "1001", "1001", -1, "message-summary");
	expect_sub_ok(PH_A, &d, 3600);
	expect_notify(PH_A, &d, "active;expires=3600", 0, 0, 0);
	advance(31000);
	assert_int_equal(mwi_count(hx.pbx.mwi), 1);
	advance(1000);
	assert_int_equal(mwi_count(hx.pbx.mwi), 0);
}

/* Changes while a NOTIFY is unanswered wait for its answer, then one
 * NOTIFY carries the latest counts. */
static void test_one_in_flight(void **state)
{
	(void)state;
	struct ch_dlg d;
	a_subscribed(&d);
	t_new = 1;
	mwi_changed(hx.pbx.mwi, "1001");
	const struct sip_msg *n = expect_notify(PH_A, &d, "active;expires=3600", 1, 0, 0);
	t_new = 2;
	mwi_changed(hx.pbx.mwi, "1001");
	t_new = 3;
	mwi_changed(hx.pbx.mwi, "1001");
	expect_none(PH_A);
	answer(n, 200, NULL);
	expect_notify(PH_A, &d, "active;expires=3600", 3, 0, 200);
	expect_none(PH_A);
}

static bool keep_none(const char *mailbox, void *arg)
{
	(void)mailbox;
	(void)arg;
	return false;
}

/* The extension was removed: its subscription ends. */
static void test_retain(void **state)
{
	(void)state;
	struct ch_dlg d;
	a_subscribed(&d);
	mwi_retain(hx.pbx.mwi, keep_none, NULL);
	expect_notify(PH_A, &d, "terminated;reason=noresource", 0, 0, 200);
	assert_int_equal(mwi_count(hx.pbx.mwi), 0);
}

/* Unsolicited: no subscription, an out-of-dialog NOTIFY to each phone
 * registered for the extension (1002: B1, and B2 once registered). */
static void test_unsolicited(void **state)
{
	(void)state;
	t_new = 1;
	t_old = 4;
	ch_register("1002", PH_B2);
	assert_int_equal(pbx_mwi_unsolicited(&hx.pbx, "1002"), 0);
	struct ch_phone *phones[] = { PH_B1, PH_B2 };
	for (int i = 0; i < 2; i++) {
		const struct sip_msg *n = expect_request(phones[i], "NOTIFY");
		char want[64];
		snprintf(want, sizeof(want), "sip:1002@%s:5060", phones[i]->ip);
		assert_true(pl_eq(n->ruri_raw, pl_from(want)));
		assert_int_equal(n->to.tag.l, 0);
		assert_string_equal(msg_hdr(n, "Event"), "message-summary");
		assert_true(body_has(n, "Messages-Waiting: yes\r\n"));
		assert_true(body_has(n, "Message-Account: sip:1002@" CH_HOST "\r\n"));
		assert_true(body_has(n, "Voice-Message: 1/4 (0/0)\r\n"));
		answer(n, 200, NULL);
		expect_none(phones[i]);
	}
	assert_int_equal(mwi_count(hx.pbx.mwi), 0);
	/* nobody registered: nothing sent, no error */
	assert_int_equal(pbx_mwi_unsolicited(&hx.pbx, "1005"), 0);
	expect_none(PH_E);
	struct mwi_contact many[MWI_UNSOL_MAX + 1];
	memset(many, 0, sizeof(many));
	assert_int_equal(mwi_notify_unsolicited(hx.pbx.mwi, "1002", many, MWI_UNSOL_MAX + 1), E2BIG);
}

/* --- restart ------------------------------------------------------------------- */

struct load_job {
	sem_t done;
	struct db_mwi_sub rows[4];
	int n;
};

static void load_one(const struct db_mwi_sub *s, void *arg)
{
	struct load_job *j = arg;
	if (j->n < 4)
		j->rows[j->n] = *s;
	j->n++;
}

static void load_run(struct db *db, void *arg)
{
	struct load_job *j = arg;
	db_mwi_load(db, (int64_t)time(NULL), load_one, j);
	sem_post(&j->done);
}

/* The saved subscriptions, once the store thread wrote what was posted. */
static int saved_subs(struct load_job *j)
{
	memset(j, 0, sizeof(*j));
	sem_init(&j->done, 0, 0);
	assert_int_equal(store_post(hx.pbx.store, load_run, j), 0);
	while (sem_wait(&j->done) && errno == EINTR)
		;
	sem_destroy(&j->done);
	return j->n;
}

static void test_restore(void **state)
{
	(void)state;
	struct ch_dlg d;
	a_subscribed(&d);
	t_new = 1;
	mwi_changed(hx.pbx.mwi, "1001");
	const struct sip_msg *last = expect_notify(PH_A, &d, "active;expires=3600", 1, 0, 200);
	uint32_t cseq = last->cseq.num;
	struct load_job j;
	assert_int_equal(saved_subs(&j), 1);
	assert_string_equal(j.rows[0].mailbox, "1001");
	assert_string_equal(j.rows[0].call_id, d.call_id);
	assert_int_equal(j.rows[0].local_cseq, cseq);

	/* "restart": a new mwi from the saved row sends the state at once */
	mwi_free(hx.pbx.mwi);
	struct mwi_deps md = mdeps();
	assert_int_equal(mwi_alloc(&hx.pbx.mwi, &md), 0);
	t_new = 4;
	t_old = 2;
	assert_int_equal(mwi_restore(hx.pbx.mwi, &j.rows[0], (int64_t)time(NULL)), 0);
	const struct sip_msg *n = expect_request(PH_A, "NOTIFY");
	assert_true(n->cseq.num > cseq);
	assert_true(body_has(n, "Voice-Message: 4/2 (0/0)\r\n"));
	answer(n, 200, NULL);
	/* and the dialog goes on: an unsubscribe is understood */
	resubscribe(&d, 0);
	expect_sub_ok(PH_A, &d, 0);
	expect_notify(PH_A, &d, "terminated", 4, 2, 200);
	assert_int_equal(saved_subs(&j), 0);
	/* an expired row is not restored */
	j.rows[0].expires_at = (int64_t)time(NULL) - 1;
	assert_int_equal(mwi_restore(hx.pbx.mwi, &j.rows[0], (int64_t)time(NULL)), ESTALE);
}

/* --- the PBX's counts reader ------------------------------------------------------ */

struct counts_res {
	bool done;
	int n, o;
};

static void counts_done(int new_msgs, int old_msgs, void *arg)
{
	struct counts_res *r = arg;
	r->done = true;
	r->n = new_msgs;
	r->o = old_msgs;
}

static void test_pbx_counts(void **state)
{
	(void)state;
	struct counts_res r = { .n = 99, .o = 99 };
	pbx_mwi_counts("1001", counts_done, &r, &hx.pbx);
	/* the answer comes back through the loop's queue */
	for (int i = 0; i < 100 && !r.done; i++)
		loop_run_once(fx.loop, 50);
	assert_true(r.done);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.o, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test_setup_teardown(test_subscribe_change_unsubscribe, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_expiry, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_fetch, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_refusals, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_notify_481_ends, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_notify_timeout_ends, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_one_in_flight, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_retain, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_unsolicited, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_restore, setup_mwi, teardown_mwi),
		cmocka_unit_test_setup_teardown(test_pbx_counts, setup_mwi, teardown_mwi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
