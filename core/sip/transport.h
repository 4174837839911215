/*
 * SIP transports: UDP and TCP listeners on IPv4 and IPv6 (TLS will plug in
 * as one more struct sip_tp_ops, without a second copy of the stream code).
 * The transport layer frames messages, parses them and hands each one up
 * with the peer it came from; it sends raw bytes to a peer, reusing the
 * stream connection the peer came in on when there is one.
 */
#ifndef HF_SIP_TRANSPORT_H
#define HF_SIP_TRANSPORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct loop;
struct sip_msg;
struct sip_transport;

enum sip_tp { SIP_TP_UDP = 0, SIP_TP_TCP, SIP_TP_TLS };

/* Where a message came from or goes to. conn_id names the stream
 * connection (0 for UDP, or "open a new one / any" when sending). */
struct sip_peer {
	enum sip_tp tp;
	struct sockaddr_storage addr;
	socklen_t alen;
	uint32_t conn_id;
	int local_fd; /* UDP socket it arrived on / should leave from (-1: pick) */
};

static inline bool sip_tp_reliable(enum sip_tp tp)
{
	return tp != SIP_TP_UDP;
}
const char *sip_tp_name(enum sip_tp tp);

/* "udp:1.2.3.4:5060", "tcp:[::1]:5062" */
void sip_peer_str(const struct sip_peer *p, char *out, size_t cap);
/* The reverse of sip_peer_str (a peer saved in the database): EINVAL
 * when s is not "udp|tcp|tls:ADDRESS:PORT" with a numeric address.
 * conn_id 0 and local_fd -1: any connection, any socket. */
int sip_peer_parse(const char *s, struct sip_peer *p);
/* Address only, no transport or port ("1.2.3.4", "::1"). */
void sip_peer_addr_str(const struct sip_peer *p, char *out, size_t cap);
uint16_t sip_peer_port(const struct sip_peer *p);

/* Called for every parsed message; msg belongs to the callee. */
typedef void(sip_recv_h)(struct sip_msg *msg, const struct sip_peer *from, void *arg);
/* Called for a datagram/stream message that was refused before parsing
 * produced a message (too big, unparseable): counters and logs only. */

struct sip_transport_cfg {
	const char *const *binds; /* addresses; NULL/empty: 0.0.0.0 and :: */
	int nbinds;
	uint16_t udp_port;
	uint16_t tcp_port;
	uint32_t tcp_idle_timeout_s;
	uint32_t tcp_max_conns;
	/* Connections one address (an IPv6 /64) may hold; 0: no limit. */
	uint32_t tcp_max_conns_per_addr;
	/* A connection we accepted is closed when no whole message has come
	 * in this long (slow or silent peers holding slots); 0: the idle
	 * timeout only. */
	uint32_t tcp_first_msg_timeout_s;
};

int sip_transport_alloc(struct sip_transport **out, struct loop *loop,
			const struct sip_transport_cfg *cfg, sip_recv_h *h, void *arg);
void sip_transport_free(struct sip_transport *t);

/* Sends one whole message. ENOTCONN when a stream connection named by
 * conn_id is gone and none could be opened. */
int sip_transport_send(struct sip_transport *t, const struct sip_peer *to,
		       const char *data, size_t len);


/* The address and port to put in Via and Contact for messages to peer:
 * the bind address when it is specific, else the configured external
 * address, else the local address the kernel routes towards peer (found
 * with a connected UDP socket: no packet is sent, nothing blocks). */
void sip_transport_local_for(struct sip_transport *t, const struct sip_peer *peer,
			     char *host, size_t cap, uint16_t *port);
/* Sets the public address announced behind NAT ("" for none). */
void sip_transport_set_external(struct sip_transport *t, const char *addr);

struct sip_transport_stats {
	uint64_t rx_msgs, tx_msgs, rx_bad, rx_too_big, tcp_conns, tcp_idle_closed;
	uint64_t tcp_refused;    /* over the total or the per-address limit */
	uint64_t tcp_slow_closed; /* no whole message by the first-message deadline */
};
void sip_transport_stats(const struct sip_transport *t, struct sip_transport_stats *s);

#endif
