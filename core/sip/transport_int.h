/* Private to the transport files: the transport object and the helpers
 * shared by UDP and TCP. */
#ifndef HF_SIP_TRANSPORT_INT_H
#define HF_SIP_TRANSPORT_INT_H

#include "../base/list.h"
#include "../base/loop.h"
#include "transport.h"

#define TP_MAX_SOCKS 8

#define TX_BATCH 64
#define TX_ARENA (64 * 1024)

/* Datagrams sent during one loop iteration, written with one sendmmsg
 * when the iteration ends. */
struct tp_txq {
	struct mmsghdr mm[TX_BATCH];
	struct iovec iov[TX_BATCH];
	struct sockaddr_storage to[TX_BATCH];
	unsigned n;
	size_t used;
	char arena[TX_ARENA];
};

struct tp_udp {
	int fd;
	int af;
	char host[64];
	struct tp_txq *txq;
};

struct tp_listener {
	int fd;
	int af;
};

struct tp_conn;

struct sip_transport {
	struct loop *loop;
	struct sip_transport_cfg cfg;
	sip_recv_h *recv_h;
	void *arg;

	struct tp_udp udp[TP_MAX_SOCKS];
	int nudp;
	struct tp_listener lis[TP_MAX_SOCKS];
	int nlis;

	/* receive batch for recvmmsg, allocated once */
	char *rxbufs;

	struct list conns;     /* TCP connections (struct tp_conn), newest first */
	uint32_t nconns;
	uint32_t next_conn_id;
	int spare_fd;          /* given up to accept-and-close when out of fds */
	uint64_t refused_logged_at; /* refusals are logged once per 10 s */
	uint64_t refused_unlogged;

	struct sip_transport_stats stats;
	char external[64];
};

int tp_sockaddr_parse(const char *host, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len);
void tp_deliver(struct sip_transport *t, const char *data, size_t len,
		const struct sip_peer *from);
void tp_trace_out(const struct sip_peer *to, const char *data, size_t len);

int tp_udp_open(struct sip_transport *t, const char *host);
int tp_udp_send(struct sip_transport *t, const struct sip_peer *to,
		const char *data, size_t len);
void tp_udp_flush(void *arg);

int tp_tcp_listen(struct sip_transport *t, const char *host);
int tp_tcp_send(struct sip_transport *t, const struct sip_peer *to,
		const char *data, size_t len);
void tp_tcp_close_all(struct sip_transport *t);

#endif
