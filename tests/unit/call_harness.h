/*
 * Shared fixture for the call-layer tests (test_call_setup.c,
 * test_call_dialog.c): the real B2BUA (core/call), request dispatch
 * (core/pbx/dispatch.c), registrar, transaction layer, transport and
 * store, with phones played by the test. It extends tsx_harness.h: the
 * same fake clock (a real struct loop stepped 1 ms at a time) and the same
 * capture of every message sent (fx.sent), now fed by the real
 * sip_transport whose sockets call_fakes.c replaces; the media engine is
 * call_fakes.c's recorder. Each phone is a fixed address; the test sends
 * what the phone would (phone_invite, phone_req, phone_ack, answer) and
 * reads what it gets in order (expect_request, expect_response,
 * expect_none). CDRs are real rows in a temporary SQLite file, written by
 * the real store thread; cdr_last waits for that thread, nothing sleeps.
 *
 * Numbers: 1001 Alice (trusted at 192.0.2.11, the caller), 1002 Bob
 * (phones B1 192.0.2.21 and B2 192.0.2.22), 1003 Carol (phone C
 * 192.0.2.31), 1005 Eve (phone E 192.0.2.15, digest only), 1004 is
 * disabled; Hookflash is 192.0.2.100:5060. B1 and C are registered by
 * ch_setup, B2 when a test calls ch_register.
 * Header-only like tsx_harness.h: include it once, from the test's .c.
 */
#ifndef HF_TESTS_CALL_HARNESS_H
#define HF_TESTS_CALL_HARNESS_H

#include "tsx_harness.h"

#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/conf.h"
#include "../../core/call/call.h"
#include "../../apps/apps.h"
#include "../../core/dialplan/numplan.h"
#include "../../core/ident/authn.h"
#include "../../core/ident/domains.h"
#include "../../core/ident/ext_table.h"
#include "../../core/pbx/pbx.h"
#include "../../core/reg/registrar.h"
#include "../../core/sip/auth.h"
#include "../../core/sip/ban.h"
#include "../../core/sip/transport.h"
#include "../../db/db.h"
#include "../../db/store.h"
#include "call_fakes.h"

/* --- phones ---------------------------------------------------------------- */

/* One side of a dialog as the phone keeps it. */
struct ch_dlg {
	struct sip_peer peer;
	char call_id[128];
	char local_uri[128], local_tag[48];   /* the phone's own */
	char remote_uri[128], remote_tag[48];
	char target[256];                     /* where its requests go */
	uint32_t cseq;
	/* the phone's INVITE (caller side): CANCEL and non-2xx ACK repeat it */
	char inv_ruri[128], inv_branch[64];
	uint32_t inv_cseq;
};

struct ch_phone {
	const char *name, *ext, *ip;
	struct sip_peer peer;
	char tag[16];                          /* To tag of its answers */
	char sdp[512];                         /* what it offers/answers */
	struct ch_dlg dlg;                     /* its callee-side dialog */
};

enum { CH_A, CH_B1, CH_B2, CH_C, CH_E, CH_NPHONES };

/* A message the PBX sent, parsed, with the phone it went to. */
struct ch_rx {
	struct sip_msg *m;
	struct ch_phone *to;
};

struct ch {
	char dir[64], db_path[128];
	struct pbx pbx;                        /* only what dispatch needs */
	struct ch_phone ph[CH_NPHONES];
	struct ch_dlg a;                       /* the caller's dialog */
	struct sip_tsx *last_st;               /* last request dispatched */
	unsigned counter;                      /* branches, tags, Call-IDs */
	bool *used;                            /* fx.sent[i] already expected */
	size_t nused;
	struct ch_rx rx[512];
	size_t nrx;
};

static struct ch hx;

#define PH_A (&hx.ph[CH_A])
#define PH_B1 (&hx.ph[CH_B1])
#define PH_B2 (&hx.ph[CH_B2])
#define PH_C (&hx.ph[CH_C])
#define PH_E (&hx.ph[CH_E])

#define CH_HOST "192.0.2.100"

/* --- wiring ---------------------------------------------------------------- */

static inline uint64_t ch_now_ms(void *arg)
{
	(void)arg;
	return loop_now(fx.loop);
}

static inline int ch_tsx_send(const struct sip_peer *to, const char *data, size_t len, void *arg)
{
	(void)arg;
	return sip_transport_send(hx.pbx.tp, to, data, len);
}

static inline void ch_on_tp_msg(struct sip_msg *msg, const struct sip_peer *from, void *arg)
{
	(void)arg;
	sip_tsx_layer_recv(fx.tl, msg, from);
}

static inline void ch_on_request(struct sip_tsx *st, const struct sip_msg *m,
				 const struct sip_peer *from, void *arg)
{
	hx.last_st = st;
	pbx_on_request(st, m, from, arg);
}

static inline void ch_on_stray(const struct sip_msg *msg, const struct sip_peer *from, void *arg)
{
	(void)arg;
	call_on_stray_response(hx.pbx.calls, msg, from);
}

static inline void ch_add_ext(struct db *db, const char *number, const char *name,
			      const char *trust, bool enabled)
{
	struct db_ext e;
	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "%s", number);
	snprintf(e.name, sizeof(e.name), "%s", name);
	snprintf(e.password, sizeof(e.password), "secret-%s", number);
	snprintf(e.trust, sizeof(e.trust), "%s", trust ? trust : "");
	e.enabled = enabled;
	assert_int_equal(db_ext_add(db, &e), 0);
}

static inline void ch_phone_init(struct ch_phone *p, const char *name, const char *ext,
				 const char *ip, uint16_t rtp_port)
{
	p->name = name;
	p->ext = ext;
	p->ip = ip;
	mkpeer(&p->peer, SIP_TP_UDP, ip, 5060);
	snprintf(p->tag, sizeof(p->tag), "%s-tag", name);
	snprintf(p->sdp, sizeof(p->sdp),
		 "v=0\r\no=%s 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n",
		 name, ip, ip, rtp_port);
}

/* Adds a registered binding for ext at phone p (as a restart restores one). */
static inline void ch_register(const char *ext, const struct ch_phone *p)
{
	struct db_reg r;
	memset(&r, 0, sizeof(r));
	int64_t now = (int64_t)time(NULL);
	snprintf(r.ext, sizeof(r.ext), "%s", ext);
	snprintf(r.contact, sizeof(r.contact), "sip:%s@%s:5060", ext, p->ip);
	snprintf(r.source, sizeof(r.source), "udp:%s:5060", p->ip);
	snprintf(r.call_id, sizeof(r.call_id), "reg-%s@%s", ext, p->ip);
	r.cseq = 1;
	r.expires_at = now + 3600;
	r.registered_at = now;
	assert_int_equal(registrar_restore(hx.pbx.reg, &r, now), 0);
}

/* The apps the call layer knows: the built-in ones, and one a test may
 * add (ch_test_app, set before the tests run). */
static const struct app_desc *ch_test_app;
static const struct app_desc *ch_apps[16];

static inline void ch_apps_fill(void)
{
	size_t n = 0;
	for (; apps_builtin[n] && n + 2 < 16; n++)
		ch_apps[n] = apps_builtin[n];
	ch_apps[n++] = ch_test_app;
	ch_apps[n] = NULL;
}

/* ch_setup, with every extension's failures ending the call (hangup) as
 * they did before extensions had voicemail: for the tests of how the
 * B2BUA itself answers a caller when the callee fails. */
static inline int ch_setup_no_voicemail(void **state);

/* Where a call to ext goes next when it is busy, rings unanswered or has
 * no phone ("" for hangup): set on the loaded extension table, as the
 * extension's settings will be. */
static inline void ch_ext_next(const char *ext, const char *busy, const char *noanswer,
			       const char *unavail)
{
	struct ext *e = (struct ext *)ext_table_find(hx.pbx.exts, pl_from(ext));
	assert_non_null(e);
	snprintf(e->next_busy, sizeof(e->next_busy), "%s", busy);
	snprintf(e->next_noanswer, sizeof(e->next_noanswer), "%s", noanswer);
	snprintf(e->next_unavail, sizeof(e->next_unavail), "%s", unavail);
}

static inline int ch_setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	memset(&hx, 0, sizeof(hx));
	fmedia_reset();
	ch_phone_init(PH_A, "a", "1001", "192.0.2.11", 10000);
	ch_phone_init(PH_B1, "b1", "1002", "192.0.2.21", 20000);
	ch_phone_init(PH_B2, "b2", "1002", "192.0.2.22", 22000);
	ch_phone_init(PH_C, "c", "1003", "192.0.2.31", 30000);
	ch_phone_init(PH_E, "e", "1005", "192.0.2.15", 15000);

	snprintf(hx.dir, sizeof(hx.dir), "/tmp/hf-call-XXXXXX");
	assert_non_null(mkdtemp(hx.dir));
	snprintf(hx.db_path, sizeof(hx.db_path), "%s/%s", hx.dir, DB_FILE_NAME);
	struct db *db;
	assert_int_equal(db_open(&db, hx.db_path), 0);
	ch_add_ext(db, "1001", "Alice", "192.0.2.11", true);
	ch_add_ext(db, "1002", "Bob", NULL, true);
	ch_add_ext(db, "1003", "Carol", NULL, true);
	ch_add_ext(db, "1004", "Dave", NULL, false);
	ch_add_ext(db, "1005", "Eve", NULL, true);
	assert_int_equal(ext_table_load(&hx.pbx.exts, db), 0);
	assert_int_equal(numplan_load(&hx.pbx.plan, db), 0);
	db_close(db);

	struct pbx *p = &hx.pbx;
	conf_defaults(&p->conf);
	snprintf(p->conf.data_dir, sizeof(p->conf.data_dir), "%s", hx.dir);
	p->conf.nbinds = 1;
	snprintf(p->conf.binds[0], sizeof(p->conf.binds[0]), CH_HOST);
	p->conf.sip_udp_port = 5060;
	p->conf.ringback = false; /* the ringback test turns it on */

	assert_int_equal(loop_alloc(&fx.loop), 0);
	loop_advance(fx.loop, 0); /* fake clock from here */
	fx.base = loop_now(fx.loop);
	p->loop = fx.loop;
	assert_int_equal(store_alloc(&p->store, hx.db_path), 0);
	assert_int_equal(auth_nonces_alloc(&p->nonces, p->conf.nonce_ttl), 0);
	struct ban_cfg bc = { .fail_limit = 100, .window_s = 60, .ban_s = 60 };
	assert_int_equal(ban_list_alloc(&p->bans, &bc), 0);
	assert_int_equal(domains_alloc(&p->domains, &p->conf), 0);
	p->authn.realm = "hookflash";
	authn_set_algs(&p->authn, "MD5");
	p->authn.nonces = p->nonces;
	p->authn.bans = p->bans;
	p->authn.now_ms = ch_now_ms;
	struct reg_cfg rc = { .min_expires = 60, .max_expires = 3600, .default_expires = 600 };
	assert_int_equal(registrar_alloc(&p->reg, fx.loop, p->store, &rc), 0);

	fake_tp_set_send(fake_send, &fx);
	const char *binds[] = { CH_HOST };
	struct sip_transport_cfg tc = { .binds = binds, .nbinds = 1, .udp_port = 5060,
					.tcp_port = 5060 };
	assert_int_equal(sip_transport_alloc(&p->tp, fx.loop, &tc, ch_on_tp_msg, NULL), 0);
	assert_int_equal(sip_tsx_layer_alloc(&fx.tl, fx.loop, NULL, ch_tsx_send, NULL,
					     ch_on_request, p), 0);
	p->tsx = fx.tl;
	sip_tsx_layer_set_stray_h(fx.tl, ch_on_stray, NULL);
	ch_apps_fill();
	struct call_deps cd = {
		.loop = fx.loop, .store = p->store, .tp = p->tp, .tsx = fx.tl, .reg = p->reg,
		.authn = &p->authn, .conf = &p->conf, .exts = &p->exts, .plan = &p->plan,
		.apps = ch_apps, .sounds_dir = "/sounds",
	};
	assert_int_equal(call_mgr_alloc(&p->calls, &cd), 0);
	ch_register("1002", PH_B1);
	ch_register("1003", PH_C);
	return 0;
}

static inline int ch_teardown(void **state)
{
	(void)state;
	struct pbx *p = &hx.pbx;
	call_mgr_free(p->calls);
	sip_transport_free(p->tp);
	sip_tsx_layer_free(fx.tl);
	registrar_free(p->reg);
	store_free(p->store);
	ext_table_unref(p->exts);
	numplan_free(p->plan);
	domains_free(p->domains);
	ban_list_free(p->bans);
	auth_nonces_free(p->nonces);
	fake_tp_set_send(NULL, NULL);
	assert_int_equal(loop_timer_count(fx.loop), 0);
	loop_free(fx.loop);
	for (size_t i = 0; i < fx.nsent; i++)
		free(fx.sent[i].data);
	free(fx.sent);
	for (size_t i = 0; i < hx.nrx; i++)
		sip_msg_free(hx.rx[i].m);
	free(hx.used);
	char f[200];
	const char *sfx[] = { "", "-wal", "-shm" };
	for (int i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s%s", hx.db_path, sfx[i]);
		unlink(f);
	}
	/* what voicemail made: DATA_DIR/voicemail/<mailbox>/ */
	char vm[160], cmd[200];
	snprintf(vm, sizeof(vm), "%s/voicemail", hx.dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vm);
	if (access(vm, F_OK) == 0 && system(cmd) != 0)
		fail_msg("cannot remove %s", vm);
	rmdir(hx.dir);
	return 0;
}

/* --- time -------------------------------------------------------------------- */

/* Work the real engine would deliver later (DESTROYED), delivered now. */
static inline void ch_pump(void)
{
	fmedia_deliver();
}

/* Moves the fake clock forward ms, every timer firing at its deadline. */
static inline void advance(uint64_t ms)
{
	clock_to(fx.now + ms);
	ch_pump();
}

/* --- what the PBX sent ------------------------------------------------------- */

static inline struct ch_phone *ch_phone_at(const struct sip_peer *peer)
{
	for (int i = 0; i < CH_NPHONES; i++)
		if (peer_eq(&hx.ph[i].peer, peer))
			return &hx.ph[i];
	return NULL;
}

static inline void ch_sync_used(void)
{
	if (hx.nused < fx.nsent) {
		hx.used = realloc(hx.used, fx.capsent * sizeof(*hx.used));
		assert_non_null(hx.used);
		memset(hx.used + hx.nused, 0, (fx.nsent - hx.nused) * sizeof(*hx.used));
		hx.nused = fx.nsent;
	}
}

/* Prints every message sent so far (a failing test's context). */
static inline void ch_dump_sent(void)
{
	for (size_t i = 0; i < fx.nsent; i++) {
		struct ch_phone *p = ch_phone_at(&fx.sent[i].to);
		printf("# --- %zu to %s at %llu ms%s:\n%s", i, p ? p->name : "?",
		       (unsigned long long)fx.sent[i].at, i < hx.nused && hx.used[i] ? " (seen)" : "",
		       fx.sent[i].data);
	}
}

/* The next message to phone p that the test has not looked at yet, or
 * NULL; it counts as seen from now on. */
static inline const struct sip_msg *ch_next(struct ch_phone *p)
{
	ch_sync_used();
	for (size_t i = 0; i < fx.nsent; i++) {
		if (hx.used[i] || !peer_eq(&fx.sent[i].to, &p->peer))
			continue;
		hx.used[i] = true;
		assert_true(hx.nrx < sizeof(hx.rx) / sizeof(hx.rx[0]));
		struct ch_rx *r = &hx.rx[hx.nrx++];
		r->m = parse_or_die(fx.sent[i].data);
		r->to = p;
		return r->m;
	}
	return NULL;
}

/* The next message to p must be a request `method`. */
static inline const struct sip_msg *expect_request(struct ch_phone *p, const char *method)
{
	const struct sip_msg *m = ch_next(p);
	if (!m || !m->is_request || !pl_eq(m->method, pl_from(method))) {
		ch_dump_sent();
		fail_msg("phone %s: expected a %s request, got %s", p->name, method,
			 !m ? "nothing" : m->is_request ? "another request" : "a response");
	}
	return m;
}

/* The next message to p must be a response with this status (to cseq
 * method `method` when not NULL). */
static inline const struct sip_msg *expect_response_to(struct ch_phone *p, uint16_t status,
						      const char *method)
{
	const struct sip_msg *m = ch_next(p);
	if (!m || m->is_request || m->status != status ||
	    (method && !pl_eq(m->cseq.method, pl_from(method)))) {
		ch_dump_sent();
		fail_msg("phone %s: expected %u%s%s, got %s %u", p->name, status, method ? " to " : "",
			 method ? method : "", !m ? "nothing" : m->is_request ? "a request" : "status",
			 m && !m->is_request ? m->status : 0);
	}
	return m;
}

static inline const struct sip_msg *expect_response(struct ch_phone *p, uint16_t status)
{
	return expect_response_to(p, status, NULL);
}

/* Nothing more was sent to p. */
static inline void expect_none(struct ch_phone *p)
{
	const struct sip_msg *m = ch_next(p);
	if (m) {
		ch_dump_sent();
		fail_msg("phone %s: expected nothing more, got a %s", p->name,
			 m->is_request ? "request" : "response");
	}
}

static inline bool msg_has_sdp(const struct sip_msg *m)
{
	return m->body.l > 0 && pl_casestr(m->content_type, "application/sdp");
}

/* The value of header `name` (first one), "" when absent; static buffer. */
static inline const char *msg_hdr(const struct sip_msg *m, const char *name)
{
	static char v[512];
	const struct sip_hdr *h = sip_msg_hdr_byname(m, name);
	v[0] = '\0';
	if (h)
		pl_strcpy(h->value, v, sizeof(v));
	return v;
}

static inline bool body_has(const struct sip_msg *m, const char *s)
{
	return m->body.l && memmem(m->body.p, m->body.l, s, strlen(s)) != NULL;
}

/* --- what the phones send ---------------------------------------------------- */

static inline void ch_feed(const struct ch_phone *p, const char *text)
{
	feed_to(fx.tl, &p->peer, text);
	ch_pump();
}

static inline void ch_body(struct sbuf *b, const char *sdp)
{
	if (sdp)
		sbuf_printf(b, "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
			    strlen(sdp), sdp);
	else
		sbuf_adds(b, "Content-Length: 0\r\n\r\n");
}

/* The phone's SDP with another version, port and direction. */
static inline const char *sdp_v(const struct ch_phone *p, unsigned version, unsigned port,
			 const char *dir)
{
	static char buf[4][512];
	static int i;
	char *s = buf[i++ % 4];
	snprintf(s, 512,
		 "v=0\r\no=%s 1 %u IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=%s\r\n",
		 p->name, version, p->ip, p->ip, port, dir);
	return s;
}

/* INVITE from phone p (its extension in From) to `number`, with extra
 * header lines (CRLF-terminated) when not NULL; the caller's dialog is
 * hx.a. Returns the server transaction the call layer got. */
static inline struct sip_tsx *phone_invite_ex(struct ch_phone *p, const char *to_number,
					      const char *sdp, const char *extra)
{
	struct ch_dlg *d = &hx.a;
	memset(d, 0, sizeof(*d));
	unsigned n = ++hx.counter;
	d->peer = p->peer;
	snprintf(d->call_id, sizeof(d->call_id), "call-%u-%s@%s", n, p->name, p->ip);
	snprintf(d->local_uri, sizeof(d->local_uri), "sip:%s@%s", p->ext, CH_HOST);
	snprintf(d->local_tag, sizeof(d->local_tag), "%s-from-%u", p->name, n);
	snprintf(d->remote_uri, sizeof(d->remote_uri), "sip:%s@%s", to_number, CH_HOST);
	snprintf(d->inv_ruri, sizeof(d->inv_ruri), "sip:%s@%s", to_number, CH_HOST);
	snprintf(d->target, sizeof(d->target), "%s", d->inv_ruri);
	snprintf(d->inv_branch, sizeof(d->inv_branch), "z9hG4bK-%s-%u", p->name, n);
	d->cseq = d->inv_cseq = 1;
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b,
		    "INVITE %s SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %s:5060;branch=%s;rport\r\n"
		    "Max-Forwards: 70\r\n"
		    "From: <%s>;tag=%s\r\n"
		    "To: <%s>\r\n"
		    "Call-ID: %s\r\n"
		    "CSeq: 1 INVITE\r\n"
		    "Contact: <sip:%s@%s:5060>\r\n"
		    "%s",
		    d->inv_ruri, p->ip, d->inv_branch, d->local_uri, d->local_tag, d->remote_uri,
		    d->call_id, p->ext, p->ip, extra ? extra : "");
	ch_body(&b, sdp);
	assert_int_equal(b.err, 0);
	hx.last_st = NULL;
	ch_feed(p, b.p);
	sbuf_free(&b);
	return hx.last_st;
}

/* phone_invite("1001", "1002", sdp): the phone of that extension calls. */
static inline struct sip_tsx *phone_invite(const char *from_ext, const char *to_number,
					   const char *sdp)
{
	for (int i = 0; i < CH_NPHONES; i++)
		if (!strcmp(hx.ph[i].ext, from_ext))
			return phone_invite_ex(&hx.ph[i], to_number, sdp, NULL);
	fail_msg("no phone for extension %s", from_ext);
	return NULL;
}

/* The caller learns the dialog from a response with a To tag. */
static inline void ch_learn(struct ch_dlg *d, const struct sip_msg *resp)
{
	if (resp->to.tag.l && !d->remote_tag[0])
		pl_strcpy(resp->to.tag, d->remote_tag, sizeof(d->remote_tag));
	const struct sip_hdr *ch = sip_msg_hdr(resp, SIP_HDR_CONTACT);
	struct sip_addr a;
	if (ch && !sip_addr_parse(&a, ch->value))
		pl_strcpy(a.uri_raw, d->target, sizeof(d->target));
}

/* A request inside dialog d from its phone (p names the phone for Via
 * and Contact); extra header lines may be NULL. */
static inline void phone_req_ex(struct ch_dlg *d, const char *method, const char *sdp,
				const char *extra)
{
	struct ch_phone *p = ch_phone_at(&d->peer);
	assert_non_null(p);
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b,
		    "%s %s SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%u;rport\r\n"
		    "Max-Forwards: 70\r\n"
		    "From: <%s>;tag=%s\r\n"
		    "To: <%s>;tag=%s\r\n"
		    "Call-ID: %s\r\n"
		    "CSeq: %u %s\r\n"
		    "Contact: <sip:%s@%s:5060>\r\n"
		    "%s",
		    method, d->target, p->ip, p->name, ++hx.counter, d->local_uri, d->local_tag,
		    d->remote_uri, d->remote_tag, d->call_id, ++d->cseq, method, p->ext, p->ip,
		    extra ? extra : "");
	ch_body(&b, sdp);
	assert_int_equal(b.err, 0);
	ch_feed(p, b.p);
	sbuf_free(&b);
}

static inline void phone_req(struct ch_dlg *d, const char *method, const char *sdp)
{
	phone_req_ex(d, method, sdp, NULL);
}

/* The caller's ACK for the final response resp to its INVITE: a 2xx is
 * ACKed in the dialog (new branch, Contact as target), anything else with
 * the INVITE's branch (17.1.1.3). sdp: the answer in a 2xx's ACK. */
static inline void phone_ack_sdp(struct ch_dlg *d, const struct sip_msg *resp, const char *sdp)
{
	struct ch_phone *p = ch_phone_at(&d->peer);
	assert_non_null(p);
	bool ok = resp->status < 300;
	struct sbuf b;
	sbuf_init(&b);
	char totag[64] = "";
	pl_strcpy(resp->to.tag, totag, sizeof(totag));
	if (ok)
		ch_learn(d, resp);
	char branch[64];
	if (ok)
		snprintf(branch, sizeof(branch), "z9hG4bK-%s-%u", p->name, ++hx.counter);
	else
		snprintf(branch, sizeof(branch), "%s", d->inv_branch);
	sbuf_printf(&b,
		    "ACK %s SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %s:5060;branch=%s;rport\r\n"
		    "Max-Forwards: 70\r\n"
		    "From: <%s>;tag=%s\r\n"
		    "To: <%s>;tag=%s\r\n"
		    "Call-ID: %s\r\n"
		    "CSeq: %u ACK\r\n",
		    ok ? d->target : d->inv_ruri, p->ip, branch, d->local_uri, d->local_tag,
		    d->remote_uri, totag, d->call_id, resp->cseq.num);
	ch_body(&b, ok ? sdp : NULL);
	assert_int_equal(b.err, 0);
	ch_feed(p, b.p);
	sbuf_free(&b);
}

static inline void phone_ack(struct ch_dlg *d, const struct sip_msg *resp)
{
	phone_ack_sdp(d, resp, NULL);
}

/* The caller cancels its INVITE. */
static inline void phone_cancel(struct ch_dlg *d)
{
	struct ch_phone *p = ch_phone_at(&d->peer);
	assert_non_null(p);
	char t[1024];
	snprintf(t, sizeof(t),
		 "CANCEL %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:5060;branch=%s;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <%s>;tag=%s\r\n"
		 "To: <%s>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: %u CANCEL\r\n"
		 "Content-Length: 0\r\n\r\n",
		 d->inv_ruri, p->ip, d->inv_branch, d->local_uri, d->local_tag, d->remote_uri,
		 d->call_id, d->inv_cseq);
	ch_feed(p, t);
}

static inline struct ch_rx *ch_rx_of(const struct sip_msg *m)
{
	for (size_t i = 0; i < hx.nrx; i++)
		if (hx.rx[i].m == m)
			return &hx.rx[i];
	fail_msg("not a message the harness handed out");
	return NULL;
}

/* The phone a request went to answers it with status (and sdp, and extra
 * header lines). Answers to an INVITE carry the phone's To tag and
 * Contact; the phone's side of the dialog is returned (p->dlg) so it can
 * send requests in it later. */
static inline struct ch_dlg *answer_ex(const struct sip_msg *req, uint16_t status,
				       const char *sdp, const char *extra)
{
	struct ch_phone *p = ch_rx_of(req)->to;
	assert_true(req->is_request);
	bool invite = pl_eq(req->method, PL("INVITE"));
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b, "SIP/2.0 %u %s\r\n", status, sip_reason_phrase(status));
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(req, SIP_HDR_VIA, h))
		sbuf_printf(&b, "Via: %.*s\r\n", (int)h->value.l, h->value.p);
	const struct sip_hdr *from = sip_msg_hdr(req, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	sbuf_printf(&b, "From: %.*s\r\n", (int)from->value.l, from->value.p);
	sbuf_printf(&b, "To: %.*s%s%s\r\n", (int)to->value.l, to->value.p,
		    !req->to.tag.l && status > 100 ? ";tag=" : "",
		    !req->to.tag.l && status > 100 ? p->tag : "");
	sbuf_printf(&b, "Call-ID: %.*s\r\nCSeq: %u %.*s\r\n", (int)req->call_id.l, req->call_id.p,
		    req->cseq.num, (int)req->cseq.method.l, req->cseq.method.p);
	if (invite && status > 100 && status < 300)
		sbuf_printf(&b, "Contact: <sip:%s@%s:5060>\r\n", p->ext, p->ip);
	if (extra)
		sbuf_adds(&b, extra);
	ch_body(&b, sdp);
	assert_int_equal(b.err, 0);

	struct ch_dlg *d = &p->dlg;
	if (invite && !req->to.tag.l && status > 100 && status < 300) {
		/* the phone's view of the dialog the INVITE creates */
		memset(d, 0, sizeof(*d));
		d->peer = p->peer;
		pl_strcpy(req->call_id, d->call_id, sizeof(d->call_id));
		pl_strcpy(req->to.uri_raw, d->local_uri, sizeof(d->local_uri));
		snprintf(d->local_tag, sizeof(d->local_tag), "%s", p->tag);
		pl_strcpy(req->from.uri_raw, d->remote_uri, sizeof(d->remote_uri));
		pl_strcpy(req->from.tag, d->remote_tag, sizeof(d->remote_tag));
		const struct sip_hdr *ct = sip_msg_hdr(req, SIP_HDR_CONTACT);
		struct sip_addr a;
		assert_non_null(ct);
		assert_int_equal(sip_addr_parse(&a, ct->value), 0);
		pl_strcpy(a.uri_raw, d->target, sizeof(d->target));
		d->cseq = 100;
	}
	ch_feed(p, b.p);
	sbuf_free(&b);
	return d;
}

static inline struct ch_dlg *answer(const struct sip_msg *req, uint16_t status, const char *sdp)
{
	return answer_ex(req, status, sdp, NULL);
}

/* --- CDRs ---------------------------------------------------------------------- */

struct ch_cdr_job {
	sem_t done;
	struct db_cdr cdr;
	int n;
};

static inline void ch_cdr_take(const struct db_cdr *c, void *arg)
{
	struct ch_cdr_job *j = arg;
	if (!j->n++)
		j->cdr = *c;
}

static inline void ch_cdr_read(struct db *db, void *arg)
{
	struct ch_cdr_job *j = arg;
	struct db_cdr_filter f = { .limit = 1000 };
	db_cdr_list(db, &f, ch_cdr_take, j);
	sem_post(&j->done);
}

/* The newest CDR row (by start time, then id) and how many rows there
 * are, once the store thread has written everything posted before. */
static inline int cdr_rows(struct db_cdr *last)
{
	struct ch_cdr_job j;
	memset(&j, 0, sizeof(j));
	sem_init(&j.done, 0, 0);
	/* store_post's job owns arg and may not free it: it is ours */
	assert_int_equal(store_post(hx.pbx.store, ch_cdr_read, &j), 0);
	while (sem_wait(&j.done) && errno == EINTR)
		;
	sem_destroy(&j.done);
	if (last)
		*last = j.cdr;
	return j.n;
}

/* The last CDR; fails when there is none. */
static inline struct db_cdr cdr_last(void)
{
	struct db_cdr c;
	memset(&c, 0, sizeof(c));
	if (!cdr_rows(&c))
		fail_msg("no CDR row");
	return c;
}

static inline void assert_cdr(const struct db_cdr *c, const char *disposition, const char *caller,
			      const char *callee, int status, const char *side)
{
	assert_string_equal(c->disposition, disposition);
	assert_string_equal(c->caller, caller);
	assert_string_equal(c->callee, callee);
	assert_int_equal(c->hangup_status, status);
	assert_string_equal(c->hangup_side, side);
}

/* --- set pieces ------------------------------------------------------------------ */

/* What a caller gets for a number nobody has (one place to change when the
 * routing seam answers unknown numbers with an announcement instead): the
 * final response has arrived at p, and the CDR row says so. */
/* The tag of the last `op` command (leg_tone, leg_play) on call id,
 * leg 0, as the call layer gave it to the engine. */
static inline uint32_t ch_last_tag(const char *op, uint32_t id, const char **arg)
{
	int i = -1, j;
	while ((j = fmedia_find(op, id, 0, (size_t)(i + 1))) >= 0)
		i = j;
	assert_true(i >= 0);
	const char *t = strstr(fmedia.cmds[i].arg, " tag ");
	assert_non_null(t);
	if (arg)
		*arg = fmedia.cmds[i].arg;
	return (uint32_t)strtoul(t + 5, NULL, 10);
}

/* What an unknown number (or a disabled extension) gets: the "not in
 * service" announcement as early media (183 with our SDP: the special
 * information tone, then the prompt), then 404; never answered. */
static inline void expect_unknown_number(struct ch_phone *p, const char *caller,
					 const char *number)
{
	expect_response(p, 100);
	const struct sip_msg *r = expect_response_to(p, 183, "INVITE");
	assert_true(msg_has_sdp(r));
	uint32_t id = fmedia_last_call();
	const char *arg;
	uint32_t tag = ch_last_tag("leg_tone", id, &arg);
	assert_non_null(strstr(arg, "950/330,1400/330,1800/330"));
	assert_int_equal(fmedia_count("leg_start", id, 0), 1);
	assert_false(fmedia_call(id)->connected);
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_PLAY_DONE, .call = id, .leg = 0, .tag = tag });
	tag = ch_last_tag("leg_play", id, &arg);
	assert_non_null(strstr(arg, "/sounds/ss-noservice.wav"));
	expect_none(p);
	fmedia_event(&(struct media_event){ .type = MEDIA_EV_PLAY_DONE, .call = id, .leg = 0, .tag = tag });
	r = expect_response_to(p, 404, "INVITE");
	phone_ack(&hx.a, r);
	expect_none(p);
	struct db_cdr c = cdr_last();
	assert_cdr(&c, "FAILED", caller, number, 404, "system");
	size_t n = strlen(c.path);
	if (n < 13 || strcmp(c.path + n - 13, "app:noservice"))
		fail_msg("CDR path '%s' does not end at app:noservice", c.path);
	assert_int_equal(c.answer_ms, 0);
}

/* A rings B1 (1002) and B1 answers: the call is up. Returns B1's INVITE;
 * hx.a is A's dialog, PH_B1->dlg B1's. */
static inline const struct sip_msg *ch_call_up(void)
{
	assert_non_null(phone_invite("1001", "1002", PH_A->sdp));
	expect_response(PH_A, 100);
	const struct sip_msg *inv = expect_request(PH_B1, "INVITE");
	answer(inv, 180, NULL);
	expect_response(PH_A, 180);
	answer(inv, 200, PH_B1->sdp);
	expect_request(PH_B1, "ACK");
	const struct sip_msg *ok = expect_response_to(PH_A, 200, "INVITE");
	phone_ack(&hx.a, ok);
	expect_none(PH_A);
	expect_none(PH_B1);
	return inv;
}

static inline int ch_setup_no_voicemail(void **state)
{
	int err = ch_setup(state);
	static const char *const exts[] = { "1001", "1002", "1003", "1004", "1005" };
	for (size_t i = 0; !err && i < sizeof(exts) / sizeof(exts[0]); i++)
		ch_ext_next(exts[i], "hangup", "hangup", "hangup");
	return err;
}

#endif
