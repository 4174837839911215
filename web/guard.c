/*
 * The HTTPS server's connection guard: who may hold a connection, and for
 * how long without sending a request. libmicrohttpd's own timeout is an
 * idle timer that every received byte resets, so a client sending one
 * header byte every few seconds (slowloris) kept a connection forever,
 * and four addresses held all 256. Here each connection has a deadline
 * while it owes us something: its request headers 10 s after it was
 * accepted or after its last answer (the TLS handshake included), and an
 * unauthenticated request's body 60 s after its headers. A thread of ours
 * looks once every half second and shuts down the sockets past their
 * deadline (shutdown(2) only: the worker that owns the connection sees
 * the end and closes it; MHD tells us a connection is closed before it
 * closes the descriptor, so we never touch a descriptor reused since).
 * No address (an IPv6 /64 counting as one) may hold more than
 * WEB_CONN_PER_SRC connections not yet authenticated, and those
 * may fill at most three quarters of the server: past that, a newcomer
 * is let in and the oldest unauthenticated connection still owing its
 * request is closed, so an admin's browser always finds room. A
 * connection that carried an authenticated request (a session cookie, a
 * token, a login) is never closed here; MHD's idle timer still applies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../core/base/list.h"
#include "../core/base/log.h"
#include "web_int.h"

#define HDR_DEADLINE_MS 10000
#define BODY_DEADLINE_MS 60000
#define TICK_MS 500

struct wconn {
	struct list_node le; /* in g->conns */
	int fd;
	char src[64];
	uint64_t since;    /* accepted, or (evictable order) last answered */
	uint64_t deadline; /* 0: owes nothing now (handling, answering) */
	bool authed;
};

struct web_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool started, stopping;
	struct list conns; /* struct wconn */
	int n;
	unsigned long closed_slow, refused_src, evicted; /* for the log */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct wconn *conn_of(struct list_node *n)
{
	return container_of(n, struct wconn, le);
}

void web_source_key(const struct sockaddr *sa, char *out, size_t cap)
{
	char buf[INET6_ADDRSTRLEN];
	snprintf(out, cap, "unknown");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		if (inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf)))
			snprintf(out, cap, "%s", buf);
	} else if (sa->sa_family == AF_INET6) {
		struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			if (inet_ntop(AF_INET, &a.s6_addr[12], buf, sizeof(buf)))
				snprintf(out, cap, "%s", buf);
			return;
		}
		/* a host owns a whole /64 and could rotate through it */
		memset(&a.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &a, buf, sizeof(buf)))
			snprintf(out, cap, "%s/64", buf);
	}
}

/* --- the reaper ---------------------------------------------------------- */

static void *reaper_main(void *arg)
{
	struct web_guard *g = arg;
	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		struct timespec dl;
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += TICK_MS * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &dl);
		uint64_t now = mono_ms();
		unsigned slow = 0;
		char last[64] = "";
		for (struct list_node *n = g->conns.head; n; n = n->next) {
			struct wconn *c = conn_of(n);
			if (!c->deadline || now < c->deadline)
				continue;
			c->deadline = 0;
			if (c->fd >= 0)
				shutdown(c->fd, SHUT_RDWR);
			slow++;
			snprintf(last, sizeof(last), "%s", c->src);
		}
		unsigned long refused = g->refused_src, evicted = g->evicted;
		g->refused_src = g->evicted = 0;
		g->closed_slow += slow;
		pthread_mutex_unlock(&g->mu);
		/* one line per tick, not per connection: a flood must not
		 * flood the log too */
		if (slow)
			log_info(WEB_TAG,
				 "closed %u web connection(s) that sent no complete request in time"
				 " (last from %s)",
				 slow, last);
		if (refused)
			log_info(WEB_TAG, "refused %lu web connection(s) past %d per address", refused,
				 WEB_CONN_PER_SRC);
		if (evicted)
			log_info(WEB_TAG,
				 "closed %lu unauthenticated web connection(s) to keep room for others",
				 evicted);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int web_guard_alloc(struct web_guard **out)
{
	struct web_guard *g = calloc(1, sizeof(*g));
	if (!g)
		return ENOMEM;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int err = pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (err) {
		free(g);
		return err;
	}
	pthread_mutex_init(&g->mu, NULL);
	if ((err = pthread_create(&g->th, NULL, reaper_main, g))) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return err;
	}
	g->started = true;
	*out = g;
	return 0;
}

void web_guard_free(struct web_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (g->started)
		pthread_join(g->th, NULL);
	/* the daemons are stopped: every connection was notified closed */
	while (g->conns.head) {
		struct wconn *c = conn_of(g->conns.head);
		list_remove(&g->conns, &c->le);
		free(c);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

/* --- MHD callbacks --------------------------------------------------------- */

/* Under g->mu: closes the oldest connection that is not authenticated
 * and still owes its request, when those fill their share. */
static void evict_if_full(struct web_guard *g)
{
	int pending = 0;
	struct wconn *oldest = NULL;
	for (struct list_node *n = g->conns.head; n; n = n->next) {
		struct wconn *c = conn_of(n);
		if (c->authed || !c->deadline)
			continue;
		pending++;
		if (!oldest || c->since < oldest->since)
			oldest = c;
	}
	if (pending < WEB_CONN_UNAUTH_MAX || !oldest)
		return;
	oldest->deadline = 0;
	if (oldest->fd >= 0)
		shutdown(oldest->fd, SHUT_RDWR);
	g->evicted++;
}

enum MHD_Result web_guard_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct web_guard *g = cls;
	char src[64];
	(void)len;
	web_source_key(addr, src, sizeof(src));
	int same = 0;
	pthread_mutex_lock(&g->mu);
	/* only connections not yet authenticated count: an office behind
	 * one NAT address may have many logged-in browsers */
	for (struct list_node *n = g->conns.head; n; n = n->next)
		if (!conn_of(n)->authed && !strcmp(conn_of(n)->src, src))
			same++;
	bool ok = same < WEB_CONN_PER_SRC;
	if (ok)
		evict_if_full(g);
	else
		g->refused_src++;
	pthread_mutex_unlock(&g->mu);
	return ok ? MHD_YES : MHD_NO;
}

void web_guard_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
		      enum MHD_ConnectionNotificationCode toe)
{
	struct web_guard *g = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct wconn *c = calloc(1, sizeof(*c));
		if (!c)
			return; /* not guarded: MHD's own limits still hold */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci ? ci->connect_fd : -1;
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		web_source_key(ci ? ci->client_addr : NULL, c->src, sizeof(c->src));
		c->since = mono_ms();
		c->deadline = c->since + HDR_DEADLINE_MS;
		pthread_mutex_lock(&g->mu);
		list_push_front(&g->conns, &c->le);
		g->n++;
		pthread_mutex_unlock(&g->mu);
		*socket_context = c;
		return;
	}
	struct wconn *c = *socket_context;
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	list_remove(&g->conns, &c->le);
	g->n--;
	c->fd = -1;
	pthread_mutex_unlock(&g->mu);
	free(c);
	*socket_context = NULL;
}

static struct wconn *wconn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void web_guard_phase(struct web_guard *g, struct MHD_Connection *mc, enum web_guard_phase ph,
		     bool authed)
{
	struct wconn *c = g ? wconn_of(mc) : NULL;
	if (!c)
		return;
	uint64_t now = mono_ms();
	pthread_mutex_lock(&g->mu);
	c->authed |= authed;
	switch (ph) {
	case WEB_GUARD_HEADERS:
		c->deadline = c->authed ? 0 : now + BODY_DEADLINE_MS;
		break;
	case WEB_GUARD_HANDLING:
		c->deadline = 0;
		break;
	case WEB_GUARD_IDLE:
		c->since = now;
		c->deadline = c->authed ? 0 : now + HDR_DEADLINE_MS;
		break;
	}
	pthread_mutex_unlock(&g->mu);
}
