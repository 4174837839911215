/*
 * SIP transactions, RFC 3261 section 17: client and server, INVITE and
 * non-INVITE, with timers A-K (17.1.1.2, 17.1.2.2, 17.2.1, 17.2.2) and the
 * matching rules of 17.1.3 (responses by top Via branch + CSeq method) and
 * 17.2.3 (requests by branch + sent-by + method, ACK matching the INVITE).
 * Retransmitted requests are absorbed by re-sending the last response;
 * unreliable transports get retransmission timers, reliable ones do not.
 *
 * The layer owns its transactions; the TU (registrar, later dialogs/calls)
 * holds a pointer only between being handed it and its final response
 * (server) or final response callback (client).
 */
#ifndef HF_SIP_TSX_H
#define HF_SIP_TSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"

struct loop;
struct sip_msg;
struct sip_tsx;
struct sip_tsx_layer;

struct sip_tsx_timers {
	uint32_t t1, t2, t4; /* ms; defaults 500, 4000, 5000 */
};

/* How the layer sends bytes (the transport, or a fake in tests). */
typedef int(sip_tsx_send_h)(const struct sip_peer *to, const char *data,
			    size_t len, void *arg);
/* A request that matched no transaction (a new server transaction has
 * been created for it, except for ACK, which gets st == NULL and needs no
 * answer). The TU answers with sip_tsx_reply()/sip_tsx_reply_raw() now or
 * later. The TU must not free msg: the layer owns it, and frees it when
 * the final response is sent (a completed transaction keeps only its
 * match key), so neither msg nor sip_tsx_request() may be used after
 * the final response. */
typedef void(sip_tsx_req_h)(struct sip_tsx *st, const struct sip_msg *msg,
			    const struct sip_peer *from, void *arg);
/* Client transaction events: each response (provisional and final), or
 * msg == NULL with err = ETIMEDOUT (Timer B/F) or a transport errno. After
 * a final response or an error the transaction is gone for the TU. */
typedef void(sip_tsx_resp_h)(const struct sip_msg *msg, int err, void *arg);

int sip_tsx_layer_alloc(struct sip_tsx_layer **out, struct loop *loop,
			const struct sip_tsx_timers *timers, /* NULL: defaults */
			sip_tsx_send_h *send, void *send_arg,
			sip_tsx_req_h *req_h, void *req_arg);
/* Terminates all transactions without callbacks. */
void sip_tsx_layer_free(struct sip_tsx_layer *tl);

/* Feeds a received message. Takes ownership of msg. Responses go to their
 * client transaction (stray ones are dropped); requests are matched,
 * absorbed as retransmissions, or handed to req_h. */
void sip_tsx_layer_recv(struct sip_tsx_layer *tl, struct sip_msg *msg,
			const struct sip_peer *from);

/* Server side: sends a response built by the TU (a whole message).
 * 1xx keeps the transaction Proceeding; 2xx-6xx complete it (INVITE 2xx
 * terminates it, as 17.2.1 says; the TU/dialog retransmits 2xx).
 * A send error is returned, but the state still moves (the stored
 * response is re-sent on retransmissions); EALREADY after a final. */
int sip_tsx_reply_raw(struct sip_tsx *st, uint16_t status, const char *data, size_t len);
/* Convenience: builds the response with sip_msg_build_response() (to-tag
 * added for non-100 responses when the request had none), appends
 * extra_hdrs (whole lines with CRLF, may be NULL) and an empty body. */
int sip_tsx_reply(struct sip_tsx *st, uint16_t status, const char *reason,
		  const char *extra_hdrs);
const struct sip_msg *sip_tsx_request(const struct sip_tsx *st);
const struct sip_peer *sip_tsx_peer(const struct sip_tsx *st);
/* The TU will not answer (e.g. a banned source gets silence): ends st now
 * without sending anything, not even the INVITE's 100 Trying; copies of
 * the request then arrive as new requests. No-op after a final response.
 * A non-INVITE the TU neither answers nor drops is dropped by the layer
 * after 64*T1 (the client has given up by then); st is gone after that. */
void sip_tsx_drop(struct sip_tsx *st);
/* Status of the last response sent by st (0: none yet). */
uint16_t sip_tsx_status(const struct sip_tsx *st);
/* The INVITE server transaction a CANCEL refers to (RFC 3261 9.2: the
 * 17.2.3 rules with method INVITE), or NULL (the TU answers 481). It is
 * still Proceeding when sip_tsx_status() < 200. */
struct sip_tsx *sip_tsx_cancel_target(struct sip_tsx_layer *tl,
				      const struct sip_msg *cancel);

/* Client side: sends a request (whole message text whose top Via carries
 * a branch made by sip_tsx_branch()) and reports responses to h.
 * For INVITE, non-2xx finals are ACKed by the layer (17.1.1.3).
 * On a send error nothing is reported to h and no transaction remains.
 * *out is NULL on success if the transaction already ended inside the
 * send (a loop-back transport). */
int sip_tsx_send_request(struct sip_tsx_layer *tl, const struct sip_peer *to,
			 const char *data, size_t len,
			 sip_tsx_resp_h *h, void *arg, struct sip_tsx **out);
/* Stops reporting to the TU (e.g. its owner is gone); the transaction
 * still runs its timers to completion. */
void sip_tsx_forget(struct sip_tsx *ct);

/* Writes a fresh RFC 3261 branch ("z9hG4bK" + 16 random hex). */
void sip_tsx_branch(char *out, size_t cap);
/* Random token for tags and Call-IDs (hex, n chars). */
void sip_random_token(char *out, size_t cap, size_t n);

/* Responses that match no client transaction: after a 2xx ends an INVITE
 * client transaction, retransmissions of that 2xx can only be recognised
 * by the dialog layer, which must re-send its ACK (RFC 3261 13.2.2.4).
 * The handler must not keep msg. */
typedef void(sip_tsx_stray_h)(const struct sip_msg *msg, const struct sip_peer *from,
			      void *arg);
void sip_tsx_layer_set_stray_h(struct sip_tsx_layer *tl, sip_tsx_stray_h *h, void *arg);

size_t sip_tsx_count(const struct sip_tsx_layer *tl);

/* Caps on server transactions that hold their request: per source address
 * (its IP) and in all; 0 lifts a cap. Past either, a new request gets a
 * stateless 503 with Retry-After. Defaults below. */
#define SIP_TSX_DEFAULT_PER_SOURCE 200
#define SIP_TSX_DEFAULT_TOTAL 20000
void sip_tsx_layer_set_limits(struct sip_tsx_layer *tl, size_t per_source, size_t total);
/* Server transactions holding their request now; requests refused 503. */
size_t sip_tsx_held(const struct sip_tsx_layer *tl);
uint64_t sip_tsx_refused(const struct sip_tsx_layer *tl);

/* Answers st once and ends it at once: no retransmission, no absorbing of
 * copies, the request freed now (RFC 3261 26.3.2.4: a challenge is sent
 * statelessly, so an unauthenticated request costs no memory and its
 * answer is not repeated 11 times at whoever the source claims to be).
 * A copy of the request is a new request and gets a new answer; the ACK
 * to a stateless INVITE answer matches nothing and reaches the TU's ACK
 * path (st == NULL), which ignores it. */
int sip_tsx_reply_stateless(struct sip_tsx *st, uint16_t status, const char *reason,
			    const char *extra_hdrs);

#endif
