/*
 * libFuzzer harness for the digest credential parser and the nonce checks
 * (core/sip/auth_digest.c, auth_nonce.c): whatever a client sends in an
 * Authorization header must parse or be refused without reading outside
 * the buffer, and every slice handed out must lie inside it. The input is
 * also tried as a bare nonce, and parsed credentials go through the full
 * auth_check path, so the replay table sees arbitrary nonce-counts.
 *
 * The input is copied to an exact-size heap buffer so that AddressSanitizer
 * catches any read one byte past the end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sip/auth.h"

static struct auth_nonces *nonces;
static char good[64];

static void check_slice(struct pl s, const char *buf, size_t len)
{
	if (!s.p)
		return;
	if (s.p < buf || s.p + s.l > buf + len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest_cred c;
	char *buf;
	int err;

	if (!nonces) {
		/* a small table, so eviction and the stale floor get exercised */
		if (auth_nonces_alloc_sized(&nonces, 60, 16))
			abort();
		auth_nonce_make(nonces, NULL, 1000, good, sizeof(good));
	}

	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct pl in = { buf, size };

	err = digest_cred_parse(&c, in);
	if (err == 0) {
		check_slice(c.username, buf, size);
		check_slice(c.realm, buf, size);
		check_slice(c.nonce, buf, size);
		check_slice(c.uri, buf, size);
		check_slice(c.response, buf, size);
		check_slice(c.algorithm, buf, size);
		check_slice(c.cnonce, buf, size);
		check_slice(c.opaque, buf, size);
		check_slice(c.qop, buf, size);
		check_slice(c.nc, buf, size);
		if (!c.username.l || !c.realm.l || !c.nonce.l || !c.uri.l || !c.response.l)
			abort();
		if (pl_isset(c.qop) && (c.nc_val == 0 || !c.cnonce.l))
			abort();

		char user[64], out[65];
		digest_unescape(c.username, user, sizeof(user));
		digest_expected(out, &c, PL("REGISTER"), "password");
		if (strlen(out) != (c.alg == DIGEST_SHA256 ? 64u : 32u))
			abort();
		/* nobody who does not know the password gets in */
		if (digest_verify(&c, PL("REGISTER"), NULL))
			abort();
		/* nonce="GOOD" stands for a genuine one, which the fuzzer cannot
		 * forge, so the response check and its outcomes are reached */
		if (pl_casestr(c.nonce, "GOOD"))
			c.nonce = (struct pl){ good, strlen(good) };
		err = auth_check(nonces, NULL, &c, PL("REGISTER"), "hookflash", "password", 2000);
		if (err != 0 && err != EACCES && err != EINVAL && err != ESTALE && err != EALREADY)
			abort();
		if (err == 0 && !pl_isset(c.qop))
			abort();
	} else if (err != EINVAL && err != EPROTONOSUPPORT) {
		abort();
	}

	/* the whole input as a nonce */
	err = auth_nonce_check(nonces, NULL, in, 2000);
	if (err != 0 && err != EINVAL && err != ESTALE)
		abort();
	if (err == 0 && !(size == strlen(good) && memcmp(buf, good, size) == 0))
		abort(); /* a forgery passed */
	if (size >= 4) {
		uint32_t nc;
		memcpy(&nc, buf, 4);
		err = auth_nonce_use(nonces, NULL, (struct pl){ good, strlen(good) }, nc, 2000);
		if (err != 0 && err != EALREADY)
			abort();
	}

	free(buf);
	return 0;
}
