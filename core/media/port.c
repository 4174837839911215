/*
 * The RTP port range: a bitmap of port pairs (even RTP port, odd RTCP port
 * = RTP + 1, RFC 3550 section 11) owned by the signalling thread, and the
 * binding of a pair's two sockets. Binding happens here, on the
 * signalling thread, because the port goes into SDP at once: a port we
 * only hoped to get would be a lie if another process held it. A pair is
 * reserved from the bind until the worker reports the sockets closed, so
 * it is never handed out twice. Allocation picks a free pair at random
 * (getrandom(2), the kernel's CSPRNG): ports handed out in order let a
 * stranger guess the next call's port and race the phone to it (RTP
 * bleed; latch.c is the other half). A pair whose bind fails is tried
 * again with another draw, then by a scan from a random start. With
 * thousands of pairs a just-released one rarely comes straight back,
 * which gives stragglers of the previous call time to stop arriving.
 */
#include "media_int.h"

#include <errno.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Random draws before the scan: with the range mostly full or held by
 * other processes, a draw keeps hitting refused pairs. */
#define RANDOM_TRIES 8

int port_pool_init(struct port_pool *pp, uint16_t min, uint16_t max)
{
	memset(pp, 0, sizeof(*pp));
	uint32_t base = min + (min & 1u);
	if (min == 0 || base + 1 > max)
		return EINVAL;
	pp->base = (uint16_t)base;
	pp->npairs = (max - base + 1) / 2;
	pp->bits = calloc((pp->npairs + 63) / 64, sizeof(uint64_t));
	return pp->bits ? 0 : ENOMEM;
}

void port_pool_fini(struct port_pool *pp)
{
	free(pp->bits);
	pp->bits = NULL;
}

static bool bit_get(const struct port_pool *pp, uint32_t i)
{
	return pp->bits[i / 64] >> (i % 64) & 1u;
}

static void bit_put(struct port_pool *pp, uint32_t i, bool on)
{
	if (on)
		pp->bits[i / 64] |= (uint64_t)1 << (i % 64);
	else
		pp->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static int bind_one(const struct sockaddr_storage *bind_sa, uint16_t port, bool rtp)
{
	struct sockaddr_storage sa;
	memcpy(&sa, bind_sa, sizeof(sa));
	media_sa_set_port(&sa, port);
	int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* DSCP EF (RFC 3246): voice gets the low-latency queue where the
	 * network honours it; failure is harmless */
	int tos = 0xb8;
	if (sa.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	if (rtp) {
		/* kernel arrival times for jitter: a batch read late by a
		 * busy worker must not look like network jitter */
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)&sa, media_sa_len(&sa)) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Bind failures that mean "someone else has this port": try the next. */
static bool port_taken(int err)
{
	return err == EADDRINUSE || err == EACCES || err == EADDRNOTAVAIL;
}

/* A 32-bit random number: the kernel's CSPRNG, or (never seen on Linux
 * >= 3.17, but a syscall filter could refuse it) a xorshift stream the
 * pool seeded from whatever getrandom gave it plus the clock. */
static uint32_t draw(struct port_pool *pp)
{
	uint32_t r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	uint64_t x = pp->rng ? pp->rng : 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)pp;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	pp->rng = x;
	return (uint32_t)(x >> 32);
}

/* The index of the k-th free pair (k < free pairs). */
static uint32_t nth_free(const struct port_pool *pp, uint32_t k)
{
	uint32_t words = (pp->npairs + 63) / 64;
	for (uint32_t w = 0; w < words; w++) {
		uint64_t freebits = ~pp->bits[w];
		if (w == words - 1 && pp->npairs % 64)
			freebits &= ((uint64_t)1 << (pp->npairs % 64)) - 1;
		uint32_t n = (uint32_t)__builtin_popcountll(freebits);
		if (k >= n) {
			k -= n;
			continue;
		}
		while (k--)
			freebits &= freebits - 1;
		return w * 64 + (uint32_t)__builtin_ctzll(freebits);
	}
	return pp->npairs; /* not reached while k < free pairs */
}

/* Binds pair i: 0, EAGAIN when another process holds a port of it, or an
 * errno that will not get better with another pair. */
static int try_pair(struct port_pool *pp, const struct sockaddr_storage *bind_sa, uint32_t i,
		    uint16_t *port_out, int fds[2])
{
	uint16_t port = (uint16_t)(pp->base + 2 * i);
	int a = bind_one(bind_sa, port, true);
	if (a < 0)
		return port_taken(-a) ? EAGAIN : -a;
	int b = bind_one(bind_sa, (uint16_t)(port + 1), false);
	if (b < 0) {
		close(a);
		return port_taken(-b) ? EAGAIN : -b;
	}
	bit_put(pp, i, true);
	pp->used++;
	fds[0] = a;
	fds[1] = b;
	*port_out = port;
	return 0;
}

int port_pair_open(struct port_pool *pp, const struct sockaddr_storage *bind_sa,
		   uint16_t *port_out, int fds[2])
{
	for (int t = 0; t < RANDOM_TRIES && pp->used < pp->npairs; t++) {
		uint32_t i = nth_free(pp, draw(pp) % (pp->npairs - pp->used));
		if (i >= pp->npairs)
			break;
		int err = try_pair(pp, bind_sa, i, port_out, fds);
		if (err != EAGAIN)
			return err;
	}
	/* many pairs are held elsewhere: every free one once, from a random
	 * place */
	uint32_t start = pp->npairs ? draw(pp) % pp->npairs : 0;
	for (uint32_t scan = 0; scan < pp->npairs; scan++) {
		uint32_t i = (start + scan) % pp->npairs;
		if (bit_get(pp, i))
			continue;
		int err = try_pair(pp, bind_sa, i, port_out, fds);
		if (err != EAGAIN)
			return err;
	}
	return ENOSPC;
}

void port_pair_release(struct port_pool *pp, uint16_t port)
{
	if (port < pp->base || (port - pp->base) & 1u)
		return;
	uint32_t i = (uint32_t)(port - pp->base) / 2;
	if (i >= pp->npairs || !bit_get(pp, i))
		return;
	bit_put(pp, i, false);
	pp->used--;
}

bool port_pair_in_use(const struct port_pool *pp, uint16_t port)
{
	if (port < pp->base || (port - pp->base) & 1u)
		return false;
	uint32_t i = (uint32_t)(port - pp->base) / 2;
	return i < pp->npairs && bit_get(pp, i);
}
