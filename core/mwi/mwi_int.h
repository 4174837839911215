/*
 * Private to core/mwi: the module's state, shared by the subscriptions
 * (mwi.c) and the unsolicited NOTIFYs (mwi_unsol.c), and the two helpers
 * both build requests with.
 */
#ifndef HF_MWI_INT_H
#define HF_MWI_INT_H

#include <stddef.h>
#include <stdint.h>

#include "../base/list.h"
#include "mwi.h"

#define MWI_TAG "mwi"

struct mwi {
	struct mwi_deps d;
	struct list subs;
	size_t n;
	uint64_t next_id;
	struct list asks;          /* counts requests not answered yet */
	struct list unsol;         /* unsolicited NOTIFYs waiting for counts */
};

/* Our Via (without branch), Contact URI and address towards peer. */
void mwi_local_for(struct mwi *m, const struct sip_peer *peer, char *via, size_t via_cap,
		   char *contact, size_t contact_cap, char *host, size_t host_cap);
/* "sip:MAILBOX@HOST": the [sip] domain when set, else host (ours). */
void mwi_account(const struct mwi *m, const char *mailbox, const char *host, char *out,
		 size_t cap);
/* mwi_free: unsolicited sends still waiting for counts will only be
 * freed when their answer comes. */
void mwi_unsol_orphan_all(struct mwi *m);

#endif
