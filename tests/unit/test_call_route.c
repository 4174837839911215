/*
 * Routing and apps through the real call layer (call_harness.h): a busy,
 * unanswered or unregistered extension sends the call on to its next
 * destination, a chain of them is cut as a loop, an app answers the
 * caller (200 with our SDP, its lone media leg started) and can send it
 * on to an extension that is then bridged without disturbing the caller,
 * the echo test runs on *43, and the CDR tells the path.
 */
#include "call_harness.h"

#include "../../core/call/app.h"
#include "../../db/voicemail.h"

#include <semaphore.h>

/* A test app: plays a prompt, and on '5' sends the caller to ext:1003
 * (app_goto), on '9' to a malformed destination (refused, it goes on). */
static int goto_starts, goto_stops;
static char goto_arg[32];

static int goto_start(struct app_call *c, const char *arg, void **state)
{
	*state = NULL;
	goto_starts++;
	snprintf(goto_arg, sizeof(goto_arg), "%s", arg);
	char path[128];
	app_prompt(c, "welcome", path, sizeof(path));
	const char *files[] = { path };
	return app_play(c, files, 1, false, 7);
}

static void goto_event(struct app_call *c, void *state, const struct app_event *ev)
{
	(void)state;
	if (ev->type != APP_EV_DTMF)
		return;
	if (ev->digit == '5')
		assert_int_equal(app_goto(c, "ext:1003"), 0);
	else if (ev->digit == '9')
		assert_int_equal(app_goto(c, "not a destination"), EINVAL);
}

static void goto_stop(struct app_call *c, void *state)
{
	(void)c;
	(void)state;
	goto_stops++;
}

static const struct app_desc goto_app = {
	.name = "goto",
	.kind = "menu",
	.start = goto_start,
	.on_event = goto_event,
	.stop = goto_stop,
};

static int route_setup(void **state)
{
	goto_starts = goto_stops = 0;
	goto_arg[0] = '\0';
	return ch_setup(state);
}

static void digit(uint32_t call, char d)
{
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_DTMF, .call = call, .leg = 0, .digit = d });
}

/* The caller's INVITE answered by us for an app: 100, then 200 with our
 * SDP; A ACKs. Returns the media call. */
static uint32_t app_answers(void)
{
	expect_response(PH_A, 100);
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	assert_true(msg_has_sdp(ok));
	phone_ack(&hx.a, ok);
	uint32_t id = fmedia_last_call();
	assert_int_equal(fmedia_count("leg_start", id, 0), 1);
	assert_false(fmedia_call(id)->connected);
	return id;
}

static void hang_up_a(void)
{
	phone_req(&hx.a, "BYE", NULL);
	expect_response_to(PH_A, 200, "BYE");
}

/* 1002 busy (486 from its phone) -> its busy destination, ext:1003, which
 * answers: the caller gets one 200, the CDR's callee is the number
 * dialled and its path both hops. */
static void busy_goes_to_next(void **state)
{
	(void)state;
	ch_ext_next("1002", "ext:1003", "", "");
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	answer(expect_request(PH_B1, "INVITE"), 486, NULL);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *inv = expect_request(PH_C, "INVITE");
	answer(inv, 180, NULL);
	expect_response(PH_A, 180);
	answer(inv, 200, PH_C->sdp);
	expect_request(PH_C, "ACK");
	phone_ack(&hx.a, expect_response_to(PH_A, 200, "INVITE"));
	expect_none(PH_A);
	hang_up_a();
	expect_request(PH_C, "BYE");
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1002", 200, "caller");
	assert_string_equal(c.path, "ext:1002 > ext:1003");
}

/* No answer within the ring time -> the echo test: the ringing phone is
 * cancelled, the caller is answered by the app (200, our SDP), hears the
 * introduction, '#' ends it with the goodbye prompt, then a BYE. */
static void no_answer_goes_to_app(void **state)
{
	(void)state;
	ch_ext_next("1002", "", "app:echo", "");
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 180, NULL);
	expect_response(PH_A, 180);
	advance(hx.pbx.conf.no_answer_timeout * 1000u);
	const struct sip_msg *cancel = expect_request(PH_B1, "CANCEL");
	answer(cancel, 200, NULL);
	answer(inv, 487, NULL);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	phone_ack(&hx.a, ok);
	uint32_t id = fmedia_last_call();
	const char *arg;
	uint32_t tag = ch_last_tag("leg_play", id, &arg);
	assert_non_null(strstr(arg, "/sounds/demo-echotest.wav"));
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_PLAY_DONE, .call = id, .leg = 0, .tag = tag });
	assert_true(fmedia_find("leg_echo", id, 0, 0) >= 0);
	digit(id, '#');
	tag = ch_last_tag("leg_play", id, &arg);
	assert_non_null(strstr(arg, "/sounds/demo-echodone.wav"));
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_PLAY_DONE, .call = id, .leg = 0, .tag = tag });
	answer(expect_request(PH_A, "BYE"), 200, NULL);
	expect_none(PH_B1);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1002", 200, "system");
	assert_string_equal(c.path, "ext:1002 > app:echo");
}

/* The same with ringback on: the caller already has our answer in a 183
 * when the phone rings out, so the app's 200 repeats that answer (RFC
 * 3264: one answer per offer) and the ringback stops. */
static void no_answer_after_ringback_goes_to_app(void **state)
{
	(void)state;
	hx.pbx.conf.ringback = true;
	ch_ext_next("1002", "", "app:echo", "");
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 180, NULL);
	const struct sip_msg *p183 = expect_response_to(PH_A, 183, "INVITE");
	uint32_t id = fmedia_last_call();
	size_t stops = fmedia_count("leg_stop", id, 0);
	advance(hx.pbx.conf.no_answer_timeout * 1000u);
	answer(expect_request(PH_B1, "CANCEL"), 200, NULL);
	answer(inv, 487, NULL);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	assert_true(msg_has_sdp(ok));
	assert_true(pl_eq(ok->body, p183->body));
	assert_true(fmedia_count("leg_stop", id, 0) > stops);
	phone_ack(&hx.a, ok);
	assert_true(fmedia_find("leg_play", id, 0, 0) >= 0);
	hang_up_a();
	struct db_cdr c = cdr_last();
	assert_string_equal(c.path, "ext:1002 > app:echo");
}

/* *43 is the echo test (the numbering plan's feature code); a prompt
 * that is missing (ENOENT) does not stop it: the echo starts. */
static void star43_echo(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "*43", PH_A->sdp));
	uint32_t id = app_answers();
	uint32_t tag = ch_last_tag("leg_play", id, NULL);
	assert_int_equal(fmedia_count("leg_echo", id, 0), 0);
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_PLAY_DONE, .call = id, .leg = 0, .tag = tag,
					    .err = ENOENT });
	assert_int_equal(fmedia_count("leg_echo", id, 0), 1);
	hang_up_a();
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "*43", 200, "caller");
	assert_string_equal(c.path, "app:echo");
}

/* A phone that sends its INVITE without SDP (a delayed offer) to *43:
 * our 200 carries the offer, its ACK the answer, which tells the engine
 * where the phone listens; the app runs meanwhile. */
static void late_offer_to_app(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "*43", NULL));
	expect_response(PH_A, 100);
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	assert_true(msg_has_sdp(ok));
	assert_true(body_has(ok, "c=IN IP4 " CH_HOST));
	assert_true(body_has(ok, "a=crypto:1 AES_CM_128_HMAC_SHA1_80")); /* SRTP optional: offered */
	uint32_t id = fmedia_last_call();
	assert_true(fmedia_call(id)->has_format[0]);
	phone_ack_sdp(&hx.a, ok, PH_A->sdp);
	expect_none(PH_A);
	int r = fmedia_find("leg_set_remote", id, 0, 0), last = r;
	while (r >= 0) {
		last = r;
		r = fmedia_find("leg_set_remote", id, 0, (size_t)r + 1);
	}
	assert_true(last >= 0);
	assert_string_equal(fmedia.cmds[last].arg, "192.0.2.11:10000");
	hang_up_a();
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "*43", 200, "caller");
}

/* While an app has the caller, its re-INVITE (a session refresh, or
 * hold) is answered here with what the leg already has; the app goes on
 * and nobody else is disturbed. */
static void reinvite_to_app_answered_here(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "*43", PH_A->sdp));
	uint32_t id = app_answers();
	phone_req(&hx.a, "INVITE", sdp_v(PH_A, 2, 10000, "sendrecv"));
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	assert_true(msg_has_sdp(ok));
	assert_true(body_has(ok, "c=IN IP4 " CH_HOST));
	phone_ack(&hx.a, ok);
	expect_none(PH_A);
	assert_false(fmedia_call(id)->gone);
	hang_up_a();
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "*43", 200, "caller");
}

/* Work an app gave the store thread is done, and its answer handled on
 * the loop. */
static void store_sync(void)
{
	cdr_rows(NULL);
	loop_run_once(fx.loop, 0);
}

static void vm_count(struct db *db, void *arg)
{
	int *n = arg, o = 0;
	db_vm_counts(db, "1002", &n[0], &o);
	n[1] = o;
	sem_post((sem_t *)(void *)&n[2]);
}

/* An extension with no destinations set sends a busy call to its own
 * voicemail with the busy greeting: the app answers, plays the greeting
 * ("the person at extension ... is on the phone"), records after the
 * beep until '#', stores the message (a new one in the mailbox) and says
 * goodbye; the CDR says VOICEMAIL with the path. */
static void busy_goes_to_voicemail_by_default(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	answer(expect_request(PH_B1, "INVITE"), 486, NULL);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	phone_ack(&hx.a, ok);
	uint32_t id = fmedia_last_call();
	store_sync(); /* the mailbox is looked up */
	const char *arg;
	uint32_t tag = ch_last_tag("leg_play", id, &arg);
	assert_non_null(strstr(arg, "vm-theperson"));
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_PLAY_DONE, .call = id, .leg = 0, .tag = tag });
	int rec = fmedia_find("call_record", id, -1, 0);
	assert_true(rec >= 0);
	assert_non_null(strstr(fmedia.cmds[rec].arg, "/voicemail/1002/msg-"));
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_TALK, .call = id, .leg = 0 });
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_DTMF, .call = id, .leg = 0, .digit = '#' });
	assert_true(fmedia_find("call_record_stop", id, -1, 0) >= 0);
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_RECORD_DONE, .call = id, .leg = 0,
					    .tag = 3 /* RECORDING */, .duration_ms = 4200 });
	store_sync(); /* the message is stored */
	struct { int n[2]; sem_t done; } cnt;
	memset(&cnt, 0, sizeof(cnt));
	sem_init(&cnt.done, 0, 0);
	assert_int_equal(store_post(hx.pbx.store, vm_count, &cnt), 0);
	while (sem_wait(&cnt.done) && errno == EINTR)
		;
	sem_destroy(&cnt.done);
	assert_int_equal(cnt.n[0], 1);
	tag = ch_last_tag("leg_play", id, &arg);
	assert_non_null(strstr(arg, "vm-msgsaved"));
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_PLAY_DONE, .call = id, .leg = 0, .tag = tag });
	answer(expect_request(PH_A, "BYE"), 200, NULL);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "VOICEMAIL", "1001", "1002", 200, "system");
	assert_string_equal(c.path, "ext:1002 > vm:1002");
}

/* '0' during a voicemail greeting, with [voicemail] operator set, sends
 * the caller to the operator: the caller is already answered by the
 * mailbox, so the operator's phone rings and is bridged in. */
static void zero_in_greeting_goes_to_operator(void **state)
{
	(void)state;
	snprintf(hx.pbx.conf.vm_operator, sizeof(hx.pbx.conf.vm_operator), "ext:1003");
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	answer(expect_request(PH_B1, "INVITE"), 486, NULL);
	expect_request(PH_B1, "ACK");
	phone_ack(&hx.a, expect_response_to(PH_A, 200, "INVITE"));
	uint32_t id = fmedia_last_call();
	store_sync();
	assert_true(fmedia_find("leg_play", id, 0, 0) >= 0); /* the greeting */
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_DTMF, .call = id, .leg = 0, .digit = '0' });
	const struct sip_msg *inv = expect_request(PH_C, "INVITE");
	answer(inv, 200, PH_C->sdp);
	expect_request(PH_C, "ACK");
	expect_none(PH_A);
	hang_up_a();
	answer(expect_request(PH_C, "BYE"), 200, NULL);
	struct db_cdr c = cdr_last();
	assert_string_equal(c.path, "ext:1002 > vm:1002 > ext:1003");
}

/* A DTMF flood at the PIN prompt of *97 (a stuck key, an attacker): the
 * digits beyond the PIN's buffer are dropped, '#' submits what fits, the
 * wrong PIN is refused like any other, and the call goes on normally. */
static void dtmf_flood_at_pin_prompt(void **state)
{
	(void)state;
	assert_non_null(phone_invite("1001", "*97", PH_A->sdp));
	uint32_t id = app_answers();
	for (int i = 0; i < 500; i++)
		fmedia_event(&(struct media_event){ .type = MEDIA_EV_DTMF, .call = id, .leg = 0,
						    .digit = (char)('0' + i % 10) });
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_DTMF, .call = id, .leg = 0, .digit = '#' });
	store_sync(); /* the PIN check: 1001's mailbox has no PIN here, so goodbye */
	uint32_t tag = ch_last_tag("leg_play", id, NULL);
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_PLAY_DONE, .call = id, .leg = 0, .tag = tag });
	answer(expect_request(PH_A, "BYE"), 200, NULL);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "*97", 200, "system");
}

/* Do-not-disturb: the phone is not rung, the caller goes to the busy
 * destination (here hangup: 486). Forward-all: the forwarding number is
 * dialled for the callee (1002 -> 1003 rings). */
static void dnd_and_forward_all(void **state)
{
	(void)state;
	struct ext *b = (struct ext *)ext_table_find(hx.pbx.exts, pl_from("1002"));
	snprintf(b->next_busy, sizeof(b->next_busy), "hangup");
	b->dnd = true;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	phone_ack(&hx.a, expect_response_to(PH_A, 486, "INVITE"));
	expect_none(PH_B1);
	struct db_cdr c = cdr_last();
	assert_string_equal(c.path, "ext:1002 > hangup");

	b->dnd = false;
	snprintf(b->fwd_all, sizeof(b->fwd_all), "1003");
	hx.a.cseq = 0;
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	expect_none(PH_B1);
	const struct sip_msg *inv = expect_request(PH_C, "INVITE");
	answer(inv, 200, PH_C->sdp);
	expect_request(PH_C, "ACK");
	phone_ack(&hx.a, expect_response_to(PH_A, 200, "INVITE"));
	hang_up_a();
	answer(expect_request(PH_C, "BYE"), 200, NULL);
	c = cdr_last();
	assert_string_equal(c.path, "ext:1002 > ext:1003");
}

/* Nobody registered at 1005 -> its unavailable destination at once. */
static void unavailable_goes_to_next(void **state)
{
	(void)state;
	ch_ext_next("1005", "", "", "app:goto");
	assert_non_null(phone_invite("1001", "1005", PH_A->sdp));
	app_answers();
	assert_int_equal(goto_starts, 1);
	assert_string_equal(goto_arg, "");
	hang_up_a();
	assert_int_equal(goto_stops, 1);
	struct db_cdr c = cdr_last();
	assert_string_equal(c.path, "ext:1005 > app:goto");
}

/* An app sends its caller to an extension: the app stops, the caller
 * (already answered) hears our ringback, the extension rings with an
 * offer made from the caller's, and its answer connects the media with
 * no new 200 or re-INVITE to the caller. A malformed destination is
 * refused and the app goes on. */
static void app_goto_ext(void **state)
{
	(void)state;
	ch_ext_next("1005", "", "", "menu:main");
	assert_non_null(phone_invite("1001", "1005", PH_A->sdp));
	uint32_t id = app_answers();
	assert_string_equal(goto_arg, "main");
	digit(id, '9');
	assert_int_equal(goto_stops, 0);
	expect_none(PH_C);
	digit(id, '5');
	assert_int_equal(goto_stops, 1);
	const struct sip_msg *inv = expect_request(PH_C, "INVITE");
	assert_true(msg_has_sdp(inv));
	assert_true(fmedia_find("leg_tone", id, 0, 0) >= 0); /* ringback to the caller */
	size_t a_formats = fmedia_count("leg_set_format", id, 0);
	answer(inv, 180, NULL);
	answer(inv, 200, PH_C->sdp);
	expect_request(PH_C, "ACK");
	expect_none(PH_A); /* nothing new for the caller: it is talking to us already */
	/* the caller keeps the format it was answered with (the worker
	 * transcodes if the callee's differs) */
	assert_int_equal(fmedia_count("leg_set_format", id, 0), a_formats);
	assert_true(fmedia_call(id)->connected);
	assert_true(fmedia_call(id)->has_format[1]);
	/* the call is bridged: A's BYE reaches C */
	hang_up_a();
	answer(expect_request(PH_C, "BYE"), 200, NULL);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "ANSWERED", "1001", "1005", 200, "caller");
	assert_string_equal(c.path, "ext:1005 > menu:main > ext:1003");
}

/* A destination chain that comes back to itself is cut after ten hops
 * with 482, and the caller is not left hanging. */
static void forwarding_loop_is_cut(void **state)
{
	(void)state;
	ch_ext_next("1005", "", "", "ext:1005");
	assert_non_null(phone_invite("1001", "1005", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *r = expect_response_to(PH_A, 482, "INVITE");
	phone_ack(&hx.a, r);
	expect_none(PH_A);
	struct db_cdr c = cdr_last();
	assert_string_equal(c.hangup_cause, "too many destinations");
	assert_non_null(strstr(c.path, "ext:1005 > ext:1005 > ext:1005"));
}

/* hangup as the next destination ends the call with the failure's own
 * status: busy stays busy. */
static void hangup_keeps_the_status(void **state)
{
	(void)state;
	ch_ext_next("1002", "hangup", "", "");
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	answer(expect_request(PH_B1, "INVITE"), 486, NULL);
	expect_request(PH_B1, "ACK");
	phone_ack(&hx.a, expect_response_to(PH_A, 486, "INVITE"));
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "BUSY", "1001", "1002", 486, "callee");
	assert_string_equal(c.path, "ext:1002 > hangup");
}

int main(void)
{
	ch_test_app = &goto_app;
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, route_setup, ch_teardown)
		T(busy_goes_to_next),
		T(busy_goes_to_voicemail_by_default),
		T(dnd_and_forward_all),
		T(dtmf_flood_at_pin_prompt),
		T(zero_in_greeting_goes_to_operator),
		T(no_answer_goes_to_app),
		T(no_answer_after_ringback_goes_to_app),
		T(star43_echo),
		T(late_offer_to_app),
		T(reinvite_to_app_answered_here),
		T(unavailable_goes_to_next),
		T(app_goto_ext),
		T(forwarding_loop_is_cut),
		T(hangup_keeps_the_status),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
