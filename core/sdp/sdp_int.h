/*
 * Private helpers shared by the SDP files: character classes, address
 * checks, the walk over every slice of a session (used to deep-copy and to
 * validate before printing), and building drafts that borrow slices and
 * are made to own them at the end.
 */
#ifndef HF_SDP_INT_H
#define HF_SDP_INT_H

#include "sdp.h"

/* RFC 8866 token-char: visible ASCII except " ( ) , / : ; < = > ? @ [ \ ] */
bool sdp_is_token_char(unsigned char c);
bool sdp_is_token(struct pl s);
/* Visible, no SP/TAB: the grammar's non-ws-string (UTF-8 allowed). */
bool sdp_is_nonws(struct pl s);

/* An address of family af (no '/' suffix): an IP literal of that family
 * or a host name. */
bool sdp_addr_ok(enum sdp_af af, struct pl addr);
/* A multicast suffix (after the '/'): "ttl[/n]" for IP4, "n" for IP6. */
bool sdp_mcast_ok(enum sdp_af af, struct pl mcast);
/* Checks a connection address of type af. The part before the first '/'
 * goes to *addr and must be an IP literal of that family or a host name;
 * what follows goes to *mcast (unset if none) and must be "ttl[/n]" for
 * IP4 or "n" for IP6, and is only accepted when allow_mcast. */
bool sdp_addr_split(enum sdp_af af, struct pl s, bool allow_mcast,
		    struct pl *addr, struct pl *mcast);
/* proto = token *("/" token), as on an m= line. */
bool sdp_proto_ok(struct pl proto);
/* "sendrecv" etc. (any case) to the enum; SDP_DIR_UNSET for anything else. */
enum sdp_dir sdp_dir_parse(struct pl name);

/* Family of an address we were given (loc->addr): IP6 when it has a ':'. */
enum sdp_af sdp_addr_af(struct pl addr);

/* Calls fn on every slice of s, including unset ones. */
typedef void (sdp_pl_h)(struct pl *pl, void *arg);
void sdp_visit(struct sdp_session *s, sdp_pl_h *fn, void *arg);

/* Copies every slice of s into one new block owned by s (s->mem is
 * overwritten, not freed: the caller knows whether it owned it). */
int sdp_own(struct sdp_session *s);

/* A heap draft starting as a shallow copy of in (or zeroed when in is
 * NULL), owning nothing; sdp_draft_finish makes it own its slices and
 * hands it out, or frees it on error. */
struct sdp_session *sdp_draft(const struct sdp_session *in);
int sdp_draft_finish(struct sdp_session **out, struct sdp_session *d, int err);

/* Sets c= at session level to loc->addr and the o= line per struct
 * sdp_local (prev: same identity, version bumped only on change). */
int sdp_draft_local(struct sdp_session *d, const struct sdp_local *loc);

#endif
