/*
 * Unit tests for the adaptive jitter buffer (core/media/decode/jbuf.c). A small
 * simulator plays the network and the media worker in virtual time: a
 * list of packets with send and arrival times (jitter, loss, reordering and
 * duplicates drawn from a deterministic PRNG) is delivered millisecond by
 * millisecond, and jbuf_get is called on a 20 ms tick, as the worker's
 * timerfd would. Every frame handed out is checked against the packet it
 * came from, and every "lost" against the packets that were really lost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/media/decode/jbuf.h"

#define MS 1000ull /* the buffer's clock is in microseconds */

static uint32_t rng = 1;
static uint32_t rnd(void) /* xorshift32: deterministic across runs */
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

struct pkt {
	uint64_t at; /* arrival, µs */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	unsigned idx; /* creation order: keeps the sort stable */
};

#define MAXP 8192

/* What the simulated worker saw. */
struct sim {
	struct jbuf *jb;
	struct pkt p[MAXP];
	unsigned n;
	uint8_t played[65536], lost[65536]; /* by sequence number */
	unsigned frames, losts, agains;
	int32_t last_seq;      /* -1: none yet */
	unsigned out_of_order; /* outputs not following the previous one */
	uint32_t delay_ms[4096]; /* delay after each frame, by tick/16 */
	uint32_t min_delay, max_delay; /* over frames after the first second */
	unsigned ticks;
	uint32_t drops_seen;
	uint16_t top;          /* sequence number of the last packet added */
	unsigned tail;         /* "lost" past the end of the stream, not counted */
};

static struct sim S;

static void sim_init(const struct jbuf_cfg *cfg)
{
	jbuf_free(S.jb);
	memset(&S, 0, sizeof(S));
	assert_int_equal(jbuf_alloc(&S.jb, cfg), 0);
	S.last_seq = -1;
	S.min_delay = UINT32_MAX;
}

static void add(uint32_t ssrc, uint16_t seq, uint32_t ts, uint64_t at)
{
	assert_true(S.n < MAXP);
	S.p[S.n] = (struct pkt){ .at = at, .ssrc = ssrc, .seq = seq, .ts = ts, .idx = S.n };
	S.n++;
	S.top = seq;
}

/* A 20 ms G.711 stream: count packets from seq0/ts0 sent from t0_ms, each
 * arriving base_ms later plus jitter drawn uniformly from [0, jit_ms);
 * a packet is lost with probability loss_pct %. Returns a bitmap-free
 * record: the lost ones are marked in *gone (by sequence number). */
static void stream(uint32_t ssrc, uint16_t seq0, uint32_t ts0, uint64_t t0_ms,
		   unsigned count, unsigned base_ms, unsigned jit_ms,
		   unsigned loss_pct, uint8_t *gone)
{
	for (unsigned i = 0; i < count; i++) {
		uint16_t seq = (uint16_t)(seq0 + i);
		if (loss_pct && rnd() % 100 < loss_pct) {
			if (gone)
				gone[seq] = 1;
			continue;
		}
		uint64_t at = (t0_ms + 20ull * i + base_ms) * MS;
		if (jit_ms)
			at += rnd() % (jit_ms * MS);
		add(ssrc, seq, ts0 + 160u * i, at);
	}
}

static int cmp_pkt(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Delivers the packets and ticks get every 20 ms at phase_ms, from 0 to
 * end_ms. */
static void run(uint64_t end_ms, unsigned phase_ms)
{
	qsort(S.p, S.n, sizeof(S.p[0]), cmp_pkt);
	unsigned next = 0;
	for (uint64_t t = 0; t <= end_ms; t++) {
		while (next < S.n && S.p[next].at <= t * MS) {
			const struct pkt *p = &S.p[next++];
			uint8_t pl[4] = { (uint8_t)(p->seq >> 8), (uint8_t)p->seq, 0xab, 0xcd };
			int err = jbuf_put(S.jb, p->ssrc, p->seq, p->ts, pl, sizeof(pl), t * MS);
			assert_true(err == 0 || err == EALREADY || err == ETIMEDOUT || err == EAGAIN);
		}
		if (t % 20 != phase_ms)
			continue;
		struct jbuf_frame f;
		enum jbuf_res r = jbuf_get(S.jb, t * MS, &f);
		struct jbuf_stats st;
		jbuf_stats(S.jb, &st);
		S.ticks++;
		if (r == JBUF_AGAIN) {
			S.agains++;
			continue;
		}
		if (S.last_seq >= 0 && f.seq != (uint16_t)(S.last_seq + 1) &&
		    st.dropped == S.drops_seen)
			S.out_of_order++;
		S.drops_seen = (uint32_t)st.dropped;
		S.last_seq = f.seq;
		if (r == JBUF_LOST && next == S.n && (int16_t)(f.seq - S.top) > 0) {
			/* the stream ended: the buffer cannot know, and
			 * conceals a few frames before it says "not yet" */
			S.tail++;
			continue;
		}
		if (r == JBUF_LOST) {
			S.losts++;
			S.lost[f.seq]++;
			continue;
		}
		assert_int_equal(r, JBUF_FRAME);
		assert_int_equal(f.len, 4);
		assert_int_equal(f.payload[0] << 8 | f.payload[1], f.seq);
		assert_int_equal(f.payload[2], 0xab);
		S.frames++;
		S.played[f.seq]++;
		if (S.ticks / 16 < 4096)
			S.delay_ms[S.ticks / 16] = st.delay_ms;
		if (t > 1000) {
			if (st.delay_ms < S.min_delay)
				S.min_delay = st.delay_ms;
			if (st.delay_ms > S.max_delay)
				S.max_delay = st.delay_ms;
		}
	}
}

static void stats(struct jbuf_stats *st)
{
	jbuf_stats(S.jb, st);
}

static int teardown(void **state)
{
	(void)state;
	jbuf_free(S.jb);
	S.jb = NULL;
	return 0;
}

/* --- tests ----------------------------------------------------------------- */

static void test_steady(void **state)
{
	(void)state;
	sim_init(NULL);
	stream(1, 1000, 12345, 0, 1000, 30, 0, 0, NULL);
	run(20100, 7);
	struct jbuf_stats st;
	stats(&st);
	assert_int_equal(S.frames, 1000);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(S.played[1000 + i], 1);
	assert_int_equal(S.losts, 0);
	assert_int_equal(S.out_of_order, 0);
	assert_int_equal(st.late + st.dup + st.dropped + st.lost - S.tail + st.resets, 0);
	/* the same delay throughout, within a tick of the 20 ms minimum */
	assert_int_equal(S.min_delay, S.max_delay);
	assert_true(st.delay_ms >= 20 && st.delay_ms < 40);
	assert_int_equal(st.target_ms, 20);
	assert_int_equal(st.jitter_ms, 0);
	assert_int_equal(st.put, 1000);
	assert_int_equal(st.played, 1000);

	/* other tick phases, and a 30 ms start-up delay as minimum */
	for (unsigned ph = 0; ph < 20; ph += 3) {
		struct jbuf_cfg cfg = { .min_ms = 30 };
		sim_init(&cfg);
		stream(1, 0, 0, 0, 300, 5, 0, 0, NULL);
		run(6100, ph);
		stats(&st);
		assert_int_equal(S.frames, 300);
		assert_int_equal(S.losts + S.out_of_order, 0);
		assert_int_equal(S.min_delay, S.max_delay);
		assert_true(st.delay_ms >= 30 && st.delay_ms < 50);
	}
}

static void test_reorder(void **state)
{
	(void)state;
	/* adjacent swaps: the early packet lowers the fastest transit, so
	 * the late one is still in time */
	sim_init(NULL);
	for (unsigned i = 0; i < 500; i++) {
		unsigned j = (i % 10 == 4) ? i + 1 : (i % 10 == 5) ? i - 1 : i;
		add(7, (uint16_t)i, 160 * i, (20ull * j + 40) * MS);
	}
	run(10200, 11);
	struct jbuf_stats st;
	stats(&st);
	assert_int_equal(S.frames, 500);
	assert_int_equal(S.losts + S.out_of_order, 0);
	assert_int_equal(st.late + st.lost - S.tail + st.dropped, 0);

	/* reordering up to 50 ms deep inside a 60 ms buffer: nothing lost */
	struct jbuf_cfg cfg = { .min_ms = 60 };
	sim_init(&cfg);
	rng = 4242;
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t at = 20ull * i + 30;
		if (rnd() % 8 == 0)
			at += 21 + rnd() % 30; /* overtaken by one or two */
		add(7, (uint16_t)(60000 + i), 160 * i, at * MS);
	}
	run(20200, 3);
	stats(&st);
	assert_int_equal(S.frames, 1000);
	assert_int_equal(S.losts + S.out_of_order, 0);
	assert_int_equal(st.late + st.lost - S.tail + st.dropped, 0);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(S.played[(uint16_t)(60000 + i)], 1);

	/* the first packets arrive swapped: playout starts at the earlier */
	sim_init(NULL);
	add(7, 101, 160, 40 * MS);
	add(7, 100, 0, 41 * MS);
	stream(7, 102, 320, 40, 50, 40, 0, 0, NULL);
	run(1200, 0);
	assert_int_equal(S.played[100], 1);
	assert_int_equal(S.frames, 52);
}

static void test_loss(void **state)
{
	(void)state;
	static uint8_t gone[65536];
	memset(gone, 0, sizeof(gone));
	sim_init(NULL);
	rng = 777;
	stream(3, 65000, 0xFFFF0000u, 0, 3000, 25, 0, 5, gone);
	run(60100, 13);
	unsigned ngone = 0;
	for (unsigned i = 0; i < 3000; i++) {
		uint16_t seq = (uint16_t)(65000 + i);
		ngone += gone[seq];
		/* the last packets' loss is unknowable: nothing comes after */
		if (gone[seq] && i > 2990)
			continue;
		assert_int_equal(S.lost[seq], gone[seq]);
		assert_int_equal(S.played[seq], !gone[seq]);
	}
	assert_true(ngone > 100 && ngone < 200); /* 5% of 3000 */
	struct jbuf_stats st;
	stats(&st);
	assert_int_equal(S.out_of_order, 0);
	assert_int_equal(st.late + st.dropped + st.dup, 0);
	assert_int_equal(st.played, 3000 - ngone);
}

static void test_duplicates(void **state)
{
	(void)state;
	sim_init(NULL);
	stream(9, 500, 0, 0, 1000, 30, 0, 0, NULL);
	unsigned dups = 0;
	for (unsigned i = 0; i < 1000; i += 7) {
		/* a copy right behind the original, and one long after it
		 * was played */
		add(9, (uint16_t)(500 + i), 160 * i, (20ull * i + 31) * MS);
		add(9, (uint16_t)(500 + i), 160 * i, (20ull * i + 90) * MS);
		dups += 2;
	}
	run(20200, 5);
	struct jbuf_stats st;
	stats(&st);
	assert_int_equal(S.frames, 1000);
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(S.played[500 + i], 1);
	assert_int_equal(st.dup, dups);
	assert_int_equal(st.late + st.lost - S.tail + st.dropped, 0);
	assert_int_equal(S.losts + S.out_of_order, 0);
}

static void test_adapts(void **state)
{
	(void)state;
	sim_init(NULL);
	rng = 99;
	/* 10 s calm, 10 s with 0-100 ms of jitter, 40 s calm again */
	stream(5, 0, 0, 0, 500, 20, 0, 0, NULL);
	stream(5, 500, 500 * 160, 10000, 500, 20, 100, 0, NULL);
	stream(5, 1000, 1000 * 160, 20000, 2000, 20, 0, 0, NULL);
	run(60200, 9);
	struct jbuf_stats st;
	stats(&st);
	/* tick t plays roughly frame t: look at the delay in each phase */
	uint32_t calm1 = S.delay_ms[400 / 16], peak = 0, calm2 = S.delay_ms[2900 / 16];
	for (unsigned k = 600 / 16; k < 1000 / 16; k++)
		if (S.delay_ms[k] > peak)
			peak = S.delay_ms[k];
	assert_true(calm1 >= 20 && calm1 < 40);
	assert_true(peak >= 80 && peak <= 200); /* grew to cover the jitter */
	assert_true(calm2 <= 45 && calm2 < peak / 2); /* and came back down */
	assert_true(st.max_delay_ms >= peak);
	assert_true(st.target_ms <= 30);
	assert_true(st.dropped > 0);            /* by dropping a frame now and then */
	/* once it adapted, jitter cost little: a few late packets at the
	 * start of the storm, not a steady stream of them */
	assert_true(st.late < 25);
	assert_true(S.frames + st.dropped + st.lost >= 2990);
	assert_int_equal(st.resets, 0);
}

static void test_wrap(void **state)
{
	(void)state;
	/* sequence number and timestamp both wrap */
	sim_init(NULL);
	stream(2, 65400, 0xFFFFF000u, 0, 400, 10, 0, 0, NULL);
	run(8200, 0);
	struct jbuf_stats st;
	stats(&st);
	assert_int_equal(S.frames, 400);
	for (unsigned i = 0; i < 400; i++)
		assert_int_equal(S.played[(uint16_t)(65400 + i)], 1);
	assert_int_equal(S.losts + S.out_of_order, 0);
	assert_int_equal(st.resets + st.late + st.dropped, 0);
	assert_int_equal(S.min_delay, S.max_delay);
}

static void test_ssrc_and_jumps(void **state)
{
	(void)state;
	sim_init(NULL);
	/* new SSRC with unrelated sequence numbers and timestamps */
	stream(1, 100, 5000, 0, 100, 30, 0, 0, NULL);
	stream(2, 40000, 99999999, 2000, 100, 30, 0, 0, NULL);
	run(4200, 4);
	struct jbuf_stats st;
	stats(&st);
	assert_int_equal(st.resets, 1);
	/* the old stream's frame still buffered at the switch is dropped */
	assert_true(st.dropped <= 2);
	assert_int_equal(S.frames + st.dropped, 200);
	assert_int_equal(S.played[40000], 1);
	assert_int_equal(S.played[40099], 1);

	/* same SSRC, the sender restarts: sequence and timestamp jump */
	sim_init(NULL);
	stream(1, 100, 5000, 0, 100, 30, 0, 0, NULL);
	stream(1, 30000, 7777777, 2000, 100, 30, 0, 0, NULL);
	run(4200, 4);
	stats(&st);
	assert_int_equal(st.resets, 1);
	assert_int_equal(S.frames, 200); /* the held packet is kept */

	/* only the timestamp jumps (a new source behind the same SSRC) */
	sim_init(NULL);
	stream(1, 100, 5000, 0, 100, 30, 0, 0, NULL);
	stream(1, 200, 5000 + 8000 * 3600, 2000, 100, 30, 0, 0, NULL);
	run(4200, 4);
	stats(&st);
	assert_int_equal(st.resets, 1);
	assert_int_equal(S.frames, 200);
	assert_int_equal(st.lost - S.tail + st.late, 0);

	/* a single stray packet is dropped and changes nothing */
	sim_init(NULL);
	stream(1, 100, 5000, 0, 200, 30, 0, 0, NULL);
	add(1, 20000, 1, 1001 * MS);
	add(1, 150, 5000 + 8000 * 60, 1501 * MS);
	run(4200, 4);
	stats(&st);
	assert_int_equal(st.resets, 0);
	assert_int_equal(st.refused, 2);
	assert_int_equal(S.frames, 200);
	assert_int_equal(S.losts + S.out_of_order, 0);
}

static void test_dtx(void **state)
{
	(void)state;
	/* 2 s of speech, 1.5 s of silence (no packets; the sequence goes on
	 * but the timestamp jumps), 2 s of speech */
	sim_init(NULL);
	stream(4, 10, 0, 0, 100, 30, 0, 0, NULL);
	stream(4, 110, 160 * 175, 3500, 100, 30, 0, 0, NULL);
	run(6000, 17);
	struct jbuf_stats st;
	stats(&st);
	assert_int_equal(S.frames, 200);
	assert_int_equal(st.lost - S.tail, 0); /* the silence was no loss */
	assert_true(S.losts <= 5);     /* a short concealment, then "not yet" */
	assert_int_equal(st.late + st.dropped + st.resets, 0);
	assert_int_equal(S.min_delay, S.max_delay); /* re-anchored on the spurt */
	assert_int_equal(S.played[110], 1);
}

static void test_overflow_and_api(void **state)
{
	(void)state;
	struct jbuf *jb;
	struct jbuf_cfg cfg = { .slots = 48 };
	assert_int_equal(jbuf_alloc(&jb, &cfg), EINVAL);
	cfg = (struct jbuf_cfg){ .min_ms = 100, .max_ms = 50 };
	assert_int_equal(jbuf_alloc(&jb, &cfg), EINVAL);
	assert_int_equal(jbuf_alloc(NULL, NULL), EINVAL);

	cfg = (struct jbuf_cfg){ .slots = 16, .max_payload = 8 };
	assert_int_equal(jbuf_alloc(&jb, &cfg), 0);
	struct jbuf_frame f;
	assert_int_equal(jbuf_get(jb, 0, &f), JBUF_AGAIN);
	uint8_t big[9] = { 0 };
	assert_int_equal(jbuf_put(jb, 1, 1, 1, big, 9, 0), EMSGSIZE);
	assert_int_equal(jbuf_put(jb, 1, 1, 1, NULL, 3, 0), EINVAL);
	/* nobody reads for a second: the ring keeps the newest 16 */
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(jbuf_put(jb, 1, (uint16_t)i, 160 * i, big, 8, 20 * i * MS), 0);
	struct jbuf_stats st;
	jbuf_stats(jb, &st);
	assert_int_equal(st.dropped, 34);
	/* then the reader catches up: frames long past due are dropped
	 * down to the target delay, not played late */
	assert_int_equal(jbuf_get(jb, 1000 * MS, &f), JBUF_FRAME);
	assert_int_equal(f.seq, 48);
	assert_int_equal(jbuf_get(jb, 1020 * MS, &f), JBUF_FRAME);
	assert_int_equal(f.seq, 49);
	jbuf_stats(jb, &st);
	assert_int_equal(st.dropped, 48);
	assert_true(st.delay_ms >= 20 && st.delay_ms < 45);
	assert_int_equal(jbuf_put(jb, 1, 2, 320, big, 8, 1030 * MS), ETIMEDOUT);
	assert_int_equal(jbuf_put(jb, 1, 49, 160 * 49, big, 8, 1030 * MS), EALREADY);
	jbuf_reset(jb);
	assert_int_equal(jbuf_get(jb, 3000 * MS, &f), JBUF_AGAIN);
	/* an empty payload is a frame too (comfort noise may be empty) */
	assert_int_equal(jbuf_put(jb, 1, 7, 0, NULL, 0, 3000 * MS), 0);
	assert_int_equal(jbuf_get(jb, 3100 * MS, &f), JBUF_FRAME);
	assert_int_equal(f.len, 0);
	jbuf_free(jb);
	jbuf_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_steady, teardown),
		cmocka_unit_test_teardown(test_reorder, teardown),
		cmocka_unit_test_teardown(test_loss, teardown),
		cmocka_unit_test_teardown(test_duplicates, teardown),
		cmocka_unit_test_teardown(test_adapts, teardown),
		cmocka_unit_test_teardown(test_wrap, teardown),
		cmocka_unit_test_teardown(test_ssrc_and_jumps, teardown),
		cmocka_unit_test_teardown(test_dtx, teardown),
		cmocka_unit_test(test_overflow_and_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
