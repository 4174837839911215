/*
 * Digest authentication as a server: RFC 7616 / RFC 8760 (MD5 and
 * SHA-256, qop=auth) applied to SIP as RFC 3261 section 22 describes.
 * Nonces are stateless (an HMAC over their timestamp with a per-process
 * secret) so scanners cannot fill memory with them; nonce-count replay
 * state is kept only for nonces that have authenticated someone.
 */
#ifndef HF_SIP_AUTH_H
#define HF_SIP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "../base/pl.h"
#include "../base/sbuf.h"

enum digest_alg { DIGEST_MD5 = 0, DIGEST_SHA256 };

/* Parsed Authorization / Proxy-Authorization value (slices of it). */
struct digest_cred {
	struct pl username, realm, nonce, uri, response, algorithm, cnonce,
		opaque, qop, nc;
	enum digest_alg alg;
	uint32_t nc_val;
};

/* EINVAL when not "Digest" or a required parameter (username, realm,
 * nonce, uri, response) is missing, or algorithm is unknown (EPROTONOSUPPORT).
 * Also EINVAL for a known parameter given twice, or qop=auth without a
 * cnonce and an 8-hex-digit nonzero nc; EPROTONOSUPPORT for a qop other
 * than auth and for the -sess algorithms. Slices of quoted values keep
 * their backslash escapes (see digest_unescape). */
int digest_cred_parse(struct digest_cred *c, struct pl value);

/* Hex digest of the expected response (RFC 7616 3.4.1) for this password.
 * out must hold 65 bytes. */
void digest_expected(char *out, const struct digest_cred *c, struct pl method,
		     const char *password);

/* Constant-time check of c->response against the expected one. A NULL
 * password (unknown user) is checked against a random one, so unknown
 * users cost the same time and fail the same way as wrong passwords. */
bool digest_verify(const struct digest_cred *c, struct pl method, const char *password);

/* Copies a parsed quoted-string slice (c->username, ...) without its
 * backslash escapes, NUL-terminated, truncated to cap-1; returns the
 * unescaped length. Slices keep their escapes because they point into
 * the received message. */
size_t digest_unescape(struct pl in, char *out, size_t cap);

struct auth_nonces;

int auth_nonces_alloc(struct auth_nonces **out, uint32_t ttl_s);
/* Same, bounding the nonce-count replay table to max_used nonces (0:
 * 65536; ttl_s 0: 300). When the bound evicts a live nonce, that nonce
 * and older ones not in the table become stale rather than replayable. */
int auth_nonces_alloc_sized(struct auth_nonces **out, uint32_t ttl_s, size_t max_used);
/* Nonces currently held in the replay table. */
size_t auth_nonces_used(const struct auth_nonces *n);
void auth_nonces_free(struct auth_nonces *n);
/* New nonce for now_ms (monotonic), bound to the source address src (its
 * IP, not the port; NULL binds to no address). out >= 64 bytes. */
void auth_nonce_make(struct auth_nonces *n, const struct sockaddr *src, uint64_t now_ms,
		     char *out, size_t cap);
/* 0 valid and fresh; ESTALE genuine but expired; EINVAL forged, garbage,
 * or issued to another address than src. */
int auth_nonce_check(struct auth_nonces *n, const struct sockaddr *src, struct pl nonce,
		     uint64_t now_ms);
/* Records a use with nonce-count nc after a successful response check.
 * 0 when nc is higher than any seen for this nonce; EALREADY on replay. */
int auth_nonce_use(struct auth_nonces *n, const struct sockaddr *src, struct pl nonce,
		   uint32_t nc, uint64_t now_ms);

/* Appends one WWW-Authenticate (or Proxy-Authenticate when proxy) header
 * line per algorithm in algs, in that order (RFC 8760: the server's
 * preference first; most clients take the topmost they support, many old
 * ones only ever read the first), sharing one fresh nonce, with
 * qop="auth" and stale=true when asked. algs NULL: MD5 then SHA-256. */
void auth_challenge(struct sbuf *b, struct auth_nonces *n, const struct sockaddr *src,
		    uint64_t now_ms,
		    const char *realm, bool stale, bool proxy,
		    const enum digest_alg *algs, size_t nalgs);
/* "MD5" / "SHA-256" (case-insensitive) to the enum; EINVAL otherwise. */
int digest_alg_parse(struct pl name, enum digest_alg *out);
const char *digest_alg_name(enum digest_alg alg);

/* The whole server-side check of parsed credentials, in the order that
 * neither leaks which users exist nor counts honest clients as attackers:
 *   0         authenticated (nonce-count recorded);
 *   EACCES    wrong user, password or realm, or no qop: count a failure
 *             and challenge again;
 *   ESTALE    right credentials on an expired nonce: challenge with
 *             stale=true, not a failure;
 *   EALREADY  replayed nonce-count: challenge with stale=true;
 *   EINVAL    nonce not ours (forged, issued to another address, or from
 *             before a restart): challenge again, never counted as a
 *             failure (every phone sends one after the PBX restarts, and
 *             a spoofed sender can only ever produce this one).
 * src is the request's source, which the nonce must have been issued to;
 * password is NULL for an unknown user. */
int auth_check(struct auth_nonces *n, const struct sockaddr *src, const struct digest_cred *c,
	       struct pl method,
	       const char *realm, const char *password, uint64_t now_ms);

#endif
