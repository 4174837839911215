/* libFuzzer harness for sequences of SIP messages against the dialog and
 * call layer: the real dispatch, registrar, transaction layer, transport
 * and B2BUA of tests/unit/call_harness.h, with call_fakes.c's recorder in
 * place of the media engine and of the sockets. The input is a script of
 * messages separated by NUL bytes; each one starts with a control byte
 * (low 3 bits: which phone sends it, A B1 B2 C E; bits 3-6: how many
 * 100 ms steps of the fake clock pass first) and is then SIP text. So
 * that a sequence can go past the first message, a few macros stand for
 * what the PBX last sent to that phone: $V its top Via value, $B that
 * Via's branch, $C the Call-ID, $F the From tag, $T the To tag, $N the
 * CSeq number (seeds: INVITE/180/200/ACK/re-INVITE/BYE/CANCEL/PRACK).
 * After the script the clock runs 40 s (retransmissions, timer H, no-ACK
 * teardown) and the call manager and transaction layer are rebuilt, so
 * inputs do not leak state into each other; the database and registrar
 * are set up once (a fresh SQLite file per input would cost ~100x).
 * Crashes, sanitizer reports and UB end the run; a hung loop would show
 * as a libFuzzer timeout. Seeds: tests/fuzz/seeds/call. */
#include "../unit/call_harness.h"

#include "../../core/sip/transport_int.h"

#define MAX_MSGS 16
#define MAX_MSG 8192

static bool ready;

/* The last message the PBX sent to phone p, parsed (NULL: none). */
static struct sip_msg *last_to(const struct ch_phone *p, bool request_only)
{
	for (size_t i = fx.nsent; i-- > 0;) {
		if (!peer_eq(&fx.sent[i].to, &p->peer))
			continue;
		struct sip_msg *m = NULL;
		if (sip_msg_parse(&m, fx.sent[i].data, fx.sent[i].len))
			continue;
		if (request_only && !m->is_request) {
			sip_msg_free(m);
			continue;
		}
		return m;
	}
	return NULL;
}

static void add_pl(struct sbuf *b, struct pl v)
{
	if (v.p && v.l)
		sbuf_add(b, v.p, v.l);
}

/* Copies text to b with the macros replaced. */
static void expand(struct sbuf *b, const struct ch_phone *p, const char *s, size_t n)
{
	struct sip_msg *last = NULL, *req = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *d = memchr(s + i, '$', n - i);
		size_t run = d ? (size_t)(d - (s + i)) : n - i;
		if (run) { /* the text up to the next '$' in one go */
			sbuf_add(b, s + i, run);
			i += run - 1;
			continue;
		}
		if (i + 1 == n || !s[i + 1] || !strchr("VBCFTN", s[i + 1])) {
			sbuf_add(b, &s[i], 1);
			continue;
		}
		char k = s[++i];
		if ((k == 'V' || k == 'B') && !req)
			req = last_to(p, true);
		if (k != 'V' && k != 'B' && !last)
			last = last_to(p, false);
		const struct sip_msg *m = (k == 'V' || k == 'B') ? req : last;
		if (!m)
			continue;
		const struct sip_hdr *h;
		switch (k) {
		case 'V':
			if ((h = sip_msg_hdr(m, SIP_HDR_VIA)))
				add_pl(b, h->value);
			break;
		case 'B': add_pl(b, m->via.branch); break;
		case 'C': add_pl(b, m->call_id); break;
		case 'F': add_pl(b, m->from.tag); break;
		case 'T': add_pl(b, m->to.tag); break;
		case 'N': sbuf_printf(b, "%u", m->cseq.num); break;
		}
	}
	sip_msg_free(last);
	sip_msg_free(req);
}

static void run_clock(uint64_t ms, uint64_t step)
{
	for (uint64_t t = 0; t < ms; t += step) {
		fx.now += step;
		loop_advance(fx.loop, fx.base + fx.now);
		ch_pump();
	}
}

static void layers_alloc(void)
{
	struct pbx *p = &hx.pbx;
	if (sip_tsx_layer_alloc(&fx.tl, fx.loop, NULL, ch_tsx_send, NULL, ch_on_request, p))
		abort();
	p->tsx = fx.tl;
	sip_tsx_layer_set_stray_h(fx.tl, ch_on_stray, NULL);
	struct call_deps cd = {
		.loop = fx.loop, .store = p->store, .tp = p->tp, .tsx = fx.tl, .reg = p->reg,
		.authn = &p->authn, .conf = &p->conf, .exts = &p->exts, .plan = &p->plan,
		.apps = ch_apps, .sounds_dir = "/sounds",
	};
	if (call_mgr_alloc(&p->calls, &cd))
		abort();
}

static void store_synced(struct db *db, void *arg)
{
	(void)db;
	sem_post(arg);
}

/* Waits for the store thread's queue, then runs what it posted back to
 * the loop (apps' store jobs answer through loop_post and name the call
 * manager, which must still be there). */
static void store_sync(void)
{
	for (int round = 0; round < 3; round++) {
		sem_t done;
		sem_init(&done, 0, 0);
		if (store_post(hx.pbx.store, store_synced, &done))
			abort();
		sem_wait(&done);
		sem_destroy(&done);
		loop_run_once(fx.loop, 0);
		ch_pump();
	}
}

/* Back to the state after ch_setup, but for the database and registrar. */
static void reset(void)
{
	struct pbx *p = &hx.pbx;
	store_sync();
	call_mgr_free(p->calls);
	/* the engine goes with the manager: events it still owed to the
	 * freed calls are dropped, as the real engine's are */
	fmedia_reset();
	sip_tsx_layer_free(fx.tl);
	layers_alloc();
	for (size_t i = 0; i < fx.nsent; i++)
		free(fx.sent[i].data);
	fx.nsent = 0;
	for (size_t i = 0; i < hx.nrx; i++)
		sip_msg_free(hx.rx[i].m);
	hx.nrx = 0;
	hx.nused = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		log_set_level(LOG_ERROR);
		ch_setup(NULL);
		ready = true;
	}
	const char *s = (const char *)data, *end = s + size;
	struct sbuf b;
	sbuf_init(&b);
	for (int n = 0; s < end && n < MAX_MSGS; n++) {
		const char *z = memchr(s, '\0', (size_t)(end - s));
		size_t len = z ? (size_t)(z - s) : (size_t)(end - s);
		if (len > 1 && len < MAX_MSG) {
			struct ch_phone *p = &hx.ph[(unsigned char)s[0] % 8 % CH_NPHONES];
			run_clock((((unsigned char)s[0] >> 3) & 15) * 100u, 100);
			b.len = 0;
			expand(&b, p, s + 1, len - 1);
			if (!b.err && b.len)
				tp_deliver(hx.pbx.tp, b.p, b.len, &p->peer);
			ch_pump();
		}
		s += len + 1;
	}
	sbuf_free(&b);
	run_clock(40000, 1000);
	reset();
	return 0;
}
