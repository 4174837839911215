/*
 * Who is this request from? Digest authentication of REGISTER, INVITE
 * and the other requests that need it against the extension
 * snapshot, with the brute-force ban list in front. One code path for
 * known and unknown users, so a scanner learns nothing from the answers
 * or their timing.
 */
#ifndef HF_AUTHN_H
#define HF_AUTHN_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/sbuf.h"
#include "../sip/transport.h"

struct sip_msg;
struct ext;
struct ext_table;
struct auth_nonces;
struct ban_list;

enum authn_result {
	AUTHN_OK,        /* *ext is the authenticated extension */
	AUTHN_CHALLENGE, /* answer 401/407 with the headers in hdrs */
	AUTHN_BANNED,    /* source is banned: drop without answering */
};

struct authn {
	const char *realm;
	int algs[2];      /* enum digest_alg, offered in this order */
	size_t nalgs;
	struct auth_nonces *nonces;
	struct ban_list *bans;
	uint64_t (*now_ms)(void *arg);
	void *now_arg;
	uint64_t failures; /* counters for status/metrics */
	uint64_t bans_started;
};

/* Sets the offered algorithms from a checked list like "MD5,SHA-256". */
void authn_set_algs(struct authn *a, const char *list);

/* proxy: use Proxy-Authorization / Proxy-Authenticate (INVITE), else
 * Authorization / WWW-Authenticate (REGISTER). */
enum authn_result authn_check(struct authn *a, const struct sip_msg *req,
			      const struct sip_peer *from, const struct ext_table *exts,
			      bool proxy, const struct ext **ext, struct sbuf *hdrs);

#endif
