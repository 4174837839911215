/*
 * The registrar (RFC 3261 section 10): who can be reached where. Bindings
 * live in memory on the signalling loop, expire by timer, and every change
 * is handed to the store thread so a restart finds them again. The real
 * source address and transport of each REGISTER is kept beside the
 * Contact, because behind NAT that is where the phone can be reached
 * (RFC 3581).
 */
#ifndef HF_REGISTRAR_H
#define HF_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../sip/transport.h"

struct loop;
struct store;
struct sip_tsx;
struct sip_msg;
struct ext;
struct db_reg;

struct reg_cfg {
	uint32_t min_expires, max_expires, default_expires;
	unsigned max_bindings; /* per extension; the oldest goes when full */
};

struct registrar;

int registrar_alloc(struct registrar **out, struct loop *loop, struct store *store,
		    const struct reg_cfg *cfg);
void registrar_free(struct registrar *r);
void registrar_configure(struct registrar *r, const struct reg_cfg *cfg);

/* Handles an authenticated REGISTER for extension e and answers it. */
void registrar_register(struct registrar *r, struct sip_tsx *st,
			const struct sip_msg *req, const struct sip_peer *from,
			const struct ext *e);

/* Restores a binding read from the database at start (no store write). */
int registrar_restore(struct registrar *r, const struct db_reg *row, int64_t now_wall);

/* Drops every binding of an extension that no longer exists. */
void registrar_remove_ext(struct registrar *r, const char *ext);
/* Drops the bindings of every extension for which keep() says false. */
typedef bool(reg_keep_h)(const char *ext, void *arg);
void registrar_retain(struct registrar *r, reg_keep_h *keep, void *arg);

struct reg_info {
	const char *ext;
	const char *contact;
	char source[96];
	uint32_t expires_in;
	const char *user_agent;
};
typedef void(reg_each_h)(const struct reg_info *ri, void *arg);
void registrar_each(struct registrar *r, reg_each_h *h, void *arg);
size_t registrar_count(const struct registrar *r);
/* True when a live binding was registered from this IP address (any port):
 * the address holds working phones, so it is never banned as a whole. */
bool registrar_has_source(struct registrar *r, const struct sockaddr *sa);

/* Where to reach an extension (for calls): calls h for each binding. */
typedef void(reg_contact_h)(const char *contact, const struct sip_peer *source, void *arg);
size_t registrar_lookup(struct registrar *r, const char *ext, reg_contact_h *h, void *arg);

#endif
