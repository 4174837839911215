/*
 * SIP dialogs (RFC 3261 section 12): the state two user agents share for
 * the life of a call leg: Call-ID, both tags, both CSeq counters, the
 * remote target and the route set. A dialog builds the requests that
 * travel inside it (BYE, re-INVITE, UPDATE, ACK) and checks the ones that
 * arrive. It does no I/O: the call layer sends what it builds.
 */
#ifndef HF_SIP_DIALOG_H
#define HF_SIP_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sbuf.h"
#include "transport.h"

struct sip_msg;

struct sip_dialog {
	bool uac;             /* we sent the INVITE */
	bool confirmed;       /* a 2xx was sent/received */
	char call_id[256];
	char local_tag[64];
	char remote_tag[128];
	char local_hdr[512];  /* our From/To value without the tag */
	char remote_hdr[512]; /* theirs, without the tag */
	char remote_target[512];
	char routes[1024];    /* "Route: ...\r\n" lines, in sending order */
	char local_contact[300];
	uint32_t local_cseq;
	uint32_t remote_cseq;
	bool remote_cseq_set;
	struct sip_peer peer; /* where their requests come from: we send there */
};

/* UAS: from the INVITE we answer. local_tag is ours (goes in To). */
int sip_dialog_uas_init(struct sip_dialog *d, const struct sip_msg *invite,
			const struct sip_peer *from, const char *local_tag,
			const char *local_contact);

/* UAC: before sending the INVITE. from_hdr/to_hdr are header values
 * without tags (e.g. "\"Alice\" <sip:1001@pbx>"), target the Request-URI. */
int sip_dialog_uac_init(struct sip_dialog *d, const char *call_id, const char *local_tag,
			const char *from_hdr, const char *to_hdr, const char *target,
			const struct sip_peer *peer, const char *local_contact);
/* UAC: learns the remote tag, target and route set from a 1xx (with a
 * To tag) or 2xx response; a 2xx confirms the dialog. */
int sip_dialog_uac_update(struct sip_dialog *d, const struct sip_msg *resp);

/* Writes a whole in-dialog request. cseq 0 takes the next local CSeq
 * (ACK passes the INVITE's). via is "SIP/2.0/UDP host:port" (without
 * branch); the new branch is written to branch_out (>= 40 bytes) and
 * used in the Via. extra_hdrs are whole lines; body may be NULL. */
int sip_dialog_request(struct sip_dialog *d, struct sbuf *b, const char *method,
		       uint32_t cseq, const char *via, char *branch_out,
		       const char *extra_hdrs, const char *ctype,
		       const char *body, size_t body_len);

/* Does this in-dialog request or response belong to d? (Call-ID and
 * tags.) */
bool sip_dialog_match_request(const struct sip_dialog *d, const struct sip_msg *req);

/* Checks an in-dialog request's CSeq (12.2.2): 0 and remembered when
 * higher than any before; EALREADY when lower or equal (answer 500). ACK
 * and CANCEL are exempt (they reuse the INVITE's number). Also refreshes
 * the remote target from a Contact in a target refresh request. */
int sip_dialog_accept_request(struct sip_dialog *d, const struct sip_msg *req);

#endif
