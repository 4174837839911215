/*
 * Digest nonces, stateless until they prove useful. A nonce is
 *
 *     16 hex digits of its issue time (monotonic ms)
 *   +  8 hex digits of a per-process counter (so two nonces issued in the
 *        same millisecond differ and keep separate nonce-counts)
 *   + '.' + 32 hex digits of HMAC-SHA256(secret, time || counter || source)
 *
 * 57 characters. The source is the address the challenge was sent to (the
 * IP only, not the port: a phone over TCP may answer on a new connection):
 * a nonce answered from elsewhere reads as forged, so a wrong response can
 * only be counted against the address that really asked for the nonce, and
 * a spoofed sender, who never sees our challenges, cannot produce one. Anyone may ask for as many challenges as they like without
 * costing us memory; the MAC tells our nonces from forged ones and the time
 * tells fresh from stale. The secret is drawn at start, so nonces do not
 * survive a restart (they read as forged; clients get a fresh challenge).
 *
 * Replay protection (RFC 7616 3.4: nc must grow for each use of a nonce)
 * needs state, which is kept only for nonces that have authenticated
 * someone, in a fixed table allocated up front: a ring in order of first
 * use (oldest evicted first) indexed by an open-addressed hash. When the
 * table is full and must evict a nonce that is still fresh, every nonce
 * issued up to that one's time and not in the table is from then on treated
 * as stale: losing the nc of a nonce must never make it replayable, and
 * stale only costs an honest client one more challenge.
 */
#include "auth.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

enum {
	TS_HEX = 16,
	CTR_HEX = 8,
	MAC_BYTES = 16, /* HMAC-SHA256 truncated to 128 bits */
	NONCE_LEN = TS_HEX + CTR_HEX + 1 + 2 * MAC_BYTES,
	SECRET_BYTES = 32,
};

#define DEFAULT_TTL_S 300
#define DEFAULT_MAX_USED 65536
#define LIMIT_MAX_USED (1u << 24)

struct used {
	uint64_t ts;
	uint32_t ctr;
	uint32_t nc; /* highest nonce-count seen */
};

struct auth_nonces {
	unsigned char secret[SECRET_BYTES];
	uint64_t ttl_ms;
	uint32_t ctr;
	uint64_t seed; /* hash seed, so table layout is not predictable */

	struct used *ring; /* cap entries, in order of first use */
	size_t cap, head, count;
	uint32_t *slots; /* ring index + 1; 0 is empty */
	size_t mask;     /* slot count - 1 */
	uint64_t floor;  /* nonces with ts < floor and not in the table are stale */
};

struct nonce_id {
	uint64_t ts;
	uint32_t ctr;
	unsigned char mac[MAC_BYTES];
};

static const char hexdig[] = "0123456789abcdef";

int auth_nonces_alloc(struct auth_nonces **out, uint32_t ttl_s)
{
	return auth_nonces_alloc_sized(out, ttl_s, 0);
}

int auth_nonces_alloc_sized(struct auth_nonces **out, uint32_t ttl_s, size_t max_used)
{
	struct auth_nonces *n;
	size_t nslots = 1;
	int err = 0;

	if (!out)
		return EINVAL;
	if (max_used == 0)
		max_used = DEFAULT_MAX_USED;
	if (max_used > LIMIT_MAX_USED)
		return EINVAL;
	/* load factor at most 1/2 keeps linear probing short */
	while (nslots < 2 * max_used)
		nslots <<= 1;

	n = calloc(1, sizeof(*n));
	if (!n)
		return ENOMEM;
	n->ttl_ms = (uint64_t)(ttl_s ? ttl_s : DEFAULT_TTL_S) * 1000;
	n->cap = max_used;
	n->mask = nslots - 1;
	n->ring = calloc(max_used, sizeof(*n->ring));
	n->slots = calloc(nslots, sizeof(*n->slots));
	if (!n->ring || !n->slots) {
		err = ENOMEM;
		goto out;
	}
	if (RAND_bytes(n->secret, sizeof(n->secret)) != 1 ||
	    RAND_bytes((unsigned char *)&n->seed, sizeof(n->seed)) != 1 ||
	    RAND_bytes((unsigned char *)&n->ctr, sizeof(n->ctr)) != 1) {
		err = EIO;
		goto out;
	}
	*out = n;
	return 0;
out:
	auth_nonces_free(n);
	return err;
}

void auth_nonces_free(struct auth_nonces *n)
{
	if (!n)
		return;
	OPENSSL_cleanse(n->secret, sizeof(n->secret));
	free(n->ring);
	free(n->slots);
	free(n);
}

size_t auth_nonces_used(const struct auth_nonces *n)
{
	return n ? n->count : 0;
}

/* The source address as MAC input: a family byte then the IP (an IPv4
 * address on a dual-stack socket as plain IPv4, so both spellings of one
 * host agree); NULL or another family binds to nothing (tests, fuzzers). */
static size_t src_bytes(const struct sockaddr *sa, unsigned char out[17])
{
	out[0] = 0;
	if (!sa)
		return 1;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		out[0] = 4;
		memcpy(out + 1, &sin.sin_addr, 4);
		return 5;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof(sin6));
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			out[0] = 4;
			memcpy(out + 1, sin6.sin6_addr.s6_addr + 12, 4);
			return 5;
		}
		out[0] = 6;
		memcpy(out + 1, sin6.sin6_addr.s6_addr, 16);
		return 17;
	}
	return 1;
}

static int mac_of(const struct auth_nonces *n, const struct sockaddr *src, uint64_t ts,
		  uint32_t ctr, unsigned char mac[MAC_BYTES])
{
	unsigned char msg[12 + 17], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	for (int i = 0; i < 8; i++)
		msg[i] = (unsigned char)(ts >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		msg[8 + i] = (unsigned char)(ctr >> (24 - 8 * i));
	size_t len = 12 + src_bytes(src, msg + 12);
	if (!HMAC(EVP_sha256(), n->secret, sizeof(n->secret), msg, len, md, &mdlen) ||
	    mdlen < MAC_BYTES)
		return EIO;
	memcpy(mac, md, MAC_BYTES);
	return 0;
}

void auth_nonce_make(struct auth_nonces *n, const struct sockaddr *src, uint64_t now_ms,
		     char *out, size_t cap)
{
	unsigned char mac[MAC_BYTES];
	uint32_t ctr;
	char *p = out;

	if (!out || cap == 0)
		return;
	out[0] = '\0';
	if (!n || cap < NONCE_LEN + 1)
		return;
	ctr = n->ctr++;
	if (mac_of(n, src, now_ms, ctr, mac))
		return; /* an empty nonce is refused by every check */
	for (int i = 0; i < TS_HEX; i++)
		*p++ = hexdig[(now_ms >> (60 - 4 * i)) & 15];
	for (int i = 0; i < CTR_HEX; i++)
		*p++ = hexdig[(ctr >> (28 - 4 * i)) & 15];
	*p++ = '.';
	for (int i = 0; i < MAC_BYTES; i++) {
		*p++ = hexdig[mac[i] >> 4];
		*p++ = hexdig[mac[i] & 15];
	}
	*p = '\0';
}

/* Lower-case hex only: we never issue anything else. */
static int lhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parses a nonce and checks its MAC: 0, or EINVAL for anything not ours. */
static int nonce_decode(const struct auth_nonces *n, const struct sockaddr *src, struct pl s,
			struct nonce_id *id)
{
	unsigned char mac[MAC_BYTES];
	size_t i = 0;

	if (!n || !s.p || s.l != NONCE_LEN)
		return EINVAL;
	id->ts = 0;
	id->ctr = 0;
	for (; i < TS_HEX; i++) {
		int d = lhex(s.p[i]);
		if (d < 0)
			return EINVAL;
		id->ts = (id->ts << 4) | (uint64_t)d;
	}
	for (; i < TS_HEX + CTR_HEX; i++) {
		int d = lhex(s.p[i]);
		if (d < 0)
			return EINVAL;
		id->ctr = (id->ctr << 4) | (uint32_t)d;
	}
	if (s.p[i++] != '.')
		return EINVAL;
	for (int k = 0; k < MAC_BYTES; k++, i += 2) {
		int hi = lhex(s.p[i]), lo = lhex(s.p[i + 1]);
		if (hi < 0 || lo < 0)
			return EINVAL;
		id->mac[k] = (unsigned char)(hi << 4 | lo);
	}
	if (mac_of(n, src, id->ts, id->ctr, mac))
		return EINVAL;
	if (CRYPTO_memcmp(mac, id->mac, MAC_BYTES) != 0)
		return EINVAL;
	return 0;
}

static bool expired(const struct auth_nonces *n, uint64_t ts, uint64_t now_ms)
{
	/* a nonce "from the future" only comes from a caller mixing clocks;
	 * it is genuine, so count it as brand new */
	return now_ms > ts && now_ms - ts > n->ttl_ms;
}

static size_t home_slot(const struct auth_nonces *n, uint64_t ts, uint32_t ctr)
{
	/* splitmix64 finaliser over the seeded key */
	uint64_t x = n->seed ^ ts ^ ((uint64_t)ctr << 32 | ctr);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x & n->mask;
}

/* Slot holding the entry for (ts, ctr), or SIZE_MAX. */
static size_t find_slot(const struct auth_nonces *n, uint64_t ts, uint32_t ctr)
{
	for (size_t i = home_slot(n, ts, ctr);; i = (i + 1) & n->mask) {
		uint32_t v = n->slots[i];
		if (v == 0)
			return SIZE_MAX;
		const struct used *u = &n->ring[v - 1];
		if (u->ts == ts && u->ctr == ctr)
			return i;
	}
}

static void slot_insert(struct auth_nonces *n, size_t ring_idx)
{
	const struct used *u = &n->ring[ring_idx];
	size_t i = home_slot(n, u->ts, u->ctr);
	while (n->slots[i])
		i = (i + 1) & n->mask;
	n->slots[i] = (uint32_t)(ring_idx + 1);
}

/* Linear-probing deletion by backward shift, so no tombstones pile up. */
static void slot_delete(struct auth_nonces *n, size_t i)
{
	size_t j = i;
	for (;;) {
		j = (j + 1) & n->mask;
		uint32_t v = n->slots[j];
		if (v == 0)
			break;
		const struct used *u = &n->ring[v - 1];
		size_t k = home_slot(n, u->ts, u->ctr);
		/* move j back to i unless its home lies cyclically in (i, j] */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			n->slots[i] = v;
			i = j;
		}
	}
	n->slots[i] = 0;
}

static void pop_oldest(struct auth_nonces *n, uint64_t now_ms)
{
	struct used *u = &n->ring[n->head];
	size_t s = find_slot(n, u->ts, u->ctr);

	if (!expired(n, u->ts, now_ms) && u->ts >= n->floor)
		n->floor = u->ts == UINT64_MAX ? u->ts : u->ts + 1;
	if (s != SIZE_MAX)
		slot_delete(n, s);
	n->head = (n->head + 1) % n->cap;
	n->count--;
}

int auth_nonce_check(struct auth_nonces *n, const struct sockaddr *src, struct pl nonce,
		     uint64_t now_ms)
{
	struct nonce_id id;

	if (nonce_decode(n, src, nonce, &id))
		return EINVAL;
	if (expired(n, id.ts, now_ms))
		return ESTALE;
	if (id.ts < n->floor && find_slot(n, id.ts, id.ctr) == SIZE_MAX)
		return ESTALE;
	return 0;
}

int auth_nonce_use(struct auth_nonces *n, const struct sockaddr *src, struct pl nonce,
		   uint32_t nc, uint64_t now_ms)
{
	struct nonce_id id;
	size_t s;

	/* checked again so that a forged nonce can never take a table entry */
	if (nonce_decode(n, src, nonce, &id))
		return EINVAL;
	if (expired(n, id.ts, now_ms))
		return ESTALE;

	s = find_slot(n, id.ts, id.ctr);
	if (s != SIZE_MAX) {
		struct used *u = &n->ring[n->slots[s] - 1];
		if (nc <= u->nc)
			return EALREADY;
		u->nc = nc;
		return 0;
	}
	/* its earlier uses, if any, were forgotten: cannot tell a replay */
	if (id.ts < n->floor || nc == 0)
		return EALREADY;

	/* expired entries at the old end go for free */
	while (n->count && expired(n, n->ring[n->head].ts, now_ms))
		pop_oldest(n, now_ms);
	if (n->count == n->cap)
		pop_oldest(n, now_ms);

	size_t idx = (n->head + n->count) % n->cap;
	n->ring[idx] = (struct used){ .ts = id.ts, .ctr = id.ctr, .nc = nc };
	n->count++;
	slot_insert(n, idx);
	return 0;
}
