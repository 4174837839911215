/*
 * Who is this request from? Digest authentication of REGISTER, INVITE
 * and the other requests that need it against the extension
 * snapshot, with the brute-force ban list in front. One code path for
 * known and unknown users, so a scanner learns nothing from the answers
 * or their timing.
 *
 * Only a wrong response to a nonce this very address obtained from us is
 * a failure (the nonce's MAC covers the address, auth_nonce.c): a spoofed
 * sender never sees our challenges, so it cannot get anyone banned.
 * Failures count per (address, user); an address that holds live
 * registrations or dialogs (addr_busy) is never banned as a whole, only
 * the offending user is refused there; trusted networks are never banned.
 */
#ifndef HF_AUTHN_H
#define HF_AUTHN_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/sbuf.h"
#include "../sip/transport.h"
#include "ext_table.h"

struct sip_msg;
struct ext;
struct ext_table;
struct auth_nonces;
struct ban_list;

enum authn_result {
	AUTHN_OK,        /* *ext is the authenticated extension */
	AUTHN_CHALLENGE, /* answer 401/407 with the headers in hdrs, statelessly
			  * (sip_tsx_reply_stateless: RFC 3261 26.3.2.4) */
	AUTHN_BANNED,    /* source is banned: drop without answering */
	AUTHN_FORBIDDEN, /* this user is refused from this address: 403 */
};

#define AUTHN_TRUSTED_MAX 32
#define AUTHN_FAIL_RING 200

/* One recent authentication failure, for the Security page. */
struct authn_failure {
	int64_t time_ms;   /* wall clock */
	char addr[64];
	char user[32];
	char reason[48];
};

struct authn {
	const char *realm;
	int algs[2];      /* enum digest_alg, offered in this order */
	size_t nalgs;
	struct auth_nonces *nonces;
	struct ban_list *bans;
	uint64_t (*now_ms)(void *arg);
	void *now_arg;
	/* true when the address holds live registrations or dialogs: it is
	 * then never banned as a whole (NULL: never) */
	bool (*addr_busy)(void *arg, const struct sockaddr *sa);
	void *busy_arg;
	struct ext_cidr trusted[AUTHN_TRUSTED_MAX]; /* never banned */
	int ntrusted;
	uint64_t failures; /* counters for status/metrics */
	uint64_t bans_started;
	/* the last AUTHN_FAIL_RING failures, oldest overwritten */
	struct authn_failure ring[AUTHN_FAIL_RING];
	size_t ring_next, ring_n;
};

/* Sets the offered algorithms from a checked list like "MD5,SHA-256". */
void authn_set_algs(struct authn *a, const char *list);
/* Sets the trusted networks from "10.0.0.0/8, 192.168.1.5" (conf.c has
 * checked it); EINVAL on an entry that does not parse (then none is kept
 * beyond the good ones). */
int authn_set_trusted(struct authn *a, const char *list);
bool authn_trusted(const struct authn *a, const struct sockaddr *sa);

/* proxy: use Proxy-Authorization / Proxy-Authenticate (INVITE), else
 * Authorization / WWW-Authenticate (REGISTER). */
enum authn_result authn_check(struct authn *a, const struct sip_msg *req,
			      const struct sip_peer *from, const struct ext_table *exts,
			      bool proxy, const struct ext **ext, struct sbuf *hdrs);

/* Calls h for each recent failure, newest first. */
typedef void(authn_failure_h)(const struct authn_failure *f, void *arg);
void authn_failures_each(const struct authn *a, authn_failure_h *h, void *arg);

#endif
