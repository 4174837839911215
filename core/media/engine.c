/*
 * The signalling side of the media engine (see media.h): the call table
 * keyed by id, placement of calls on workers, the port range, turning API
 * calls into commands posted to the call's worker, and delivering the
 * workers' events on the signalling loop.
 *
 * Events come back through the engine's own queue and eventfd watched by
 * the signalling loop, the same mechanism loop_post uses, rather than
 * through loop_post itself: an item posted to a loop cannot be taken back,
 * so events still in flight when the engine is freed would point at freed
 * memory or leak. Here media_engine_free drains them.
 */
#include "media_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"

#define DEFAULT_TIMEOUT_MS 30000u
#define DEFAULT_LATCH_MS 2000u
#define DEFAULT_LATCH_PKTS 10u
#define MAX_WORKERS 256u

/* --- id table -------------------------------------------------------------- */

static struct mcall *call_find(const struct media_engine *me, uint32_t id)
{
	struct hnode *n = htab_first(&me->tab, id);
	return n ? container_of(n, struct mcall, hn) : NULL; /* ids are unique */
}

/* The table doubles when it is as full as it has buckets; if memory is
 * short the chains just get longer. */
static void call_insert(struct media_engine *me, struct mcall *c)
{
	htab_insert(&me->tab, &c->hn, c->id);
}

static void call_remove(struct media_engine *me, struct mcall *c)
{
	htab_remove(&me->tab, &c->hn);
}

/* A call the API may still act on. */
struct mcall *media_live_call(struct media_engine *me, uint32_t id)
{
	if (!me)
		return NULL;
	struct mcall *c = call_find(me, id);
	return c && !c->dying ? c : NULL;
}

/* --- events ---------------------------------------------------------------- */

void media_event_push(struct media_engine *me, struct mevent *e)
{
	pthread_mutex_lock(&me->evlock);
	squeue_push(&me->events, &e->qe);
	pthread_mutex_unlock(&me->evlock);
	uint64_t one = 1;
	ssize_t r = write(me->evfd, &one, sizeof(one));
	(void)r; /* EAGAIN: the counter is already set, we will wake */
}

struct mevent *media_event_new(struct mcall *c, enum media_event_type type,
			       unsigned leg)
{
	struct mevent *e = calloc(1, sizeof(*e));
	if (!e) {
		log_warn(MEDIA_TAG, "call %u: no memory for event %d", c->id, (int)type);
		return NULL;
	}
	e->call = c;
	e->ev.type = type;
	e->ev.call = c->id;
	e->ev.leg = leg;
	return e;
}

static void events_take(struct media_engine *me, struct squeue *out)
{
	pthread_mutex_lock(&me->evlock);
	squeue_take(&me->events, out);
	pthread_mutex_unlock(&me->evlock);
}

/* The call's last event: after the handler, its ports are free again. */
static void call_finish(struct media_engine *me, struct mcall *c)
{
	for (int i = 0; i < 2; i++)
		if (c->port[i])
			port_pair_release(&me->ports, c->port[i]);
	c->w->ncalls--;
	call_remove(me, c);
	free(c);
}

static void on_events(int fd, uint32_t events, void *arg)
{
	struct media_engine *me = arg;
	uint64_t v;
	(void)events;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r;
	struct squeue batch = SQUEUE_INIT;
	events_take(me, &batch);
	struct snode *n;
	while ((n = squeue_pop(&batch))) {
		struct mevent *e = container_of(n, struct mevent, qe);
		struct mcall *c = e->call;
		if (e == &c->done) {
			if (c->h)
				c->h(&e->ev, c->arg);
			call_finish(me, c);
		} else {
			if (e->ev.type == MEDIA_EV_RECORD_DONE && e->ev.tag == c->rec_tag)
				c->recording = false;
			/* after destroy the owner wants the final word only */
			if (!c->dying && c->h)
				c->h(&e->ev, c->arg);
			free(e);
		}
	}
}

/* --- engine ---------------------------------------------------------------- */

static int parse_bind(struct sockaddr_storage *sa, const char *s)
{
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)sa;
	if (!s || !*s)
		s = "0.0.0.0";
	if (inet_pton(AF_INET, s, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		return 0;
	}
	return EINVAL;
}

int media_engine_alloc(struct media_engine **out, struct loop *sig,
		       const struct media_cfg *cfg)
{
	loop_assert_owner(sig);
	if (!out || !sig || !cfg)
		return EINVAL;
	struct media_engine *me = calloc(1, sizeof(*me));
	if (!me)
		return ENOMEM;
	int err;
	me->sig = sig;
	me->evfd = -1;
	pthread_mutex_init(&me->evlock, NULL);
	me->cfg = *cfg;
	me->cfg.bind_addr = NULL; /* parsed below; the string is the caller's */
	if (!me->cfg.rtp_timeout_ms)
		me->cfg.rtp_timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!me->cfg.latch_ms)
		me->cfg.latch_ms = DEFAULT_LATCH_MS;
	if (!me->cfg.latch_pkts)
		me->cfg.latch_pkts = DEFAULT_LATCH_PKTS;
	if (!me->cfg.clock_rate)
		me->cfg.clock_rate = 8000;
	if (!me->cfg.rtcp_interval_ms)
		me->cfg.rtcp_interval_ms = 5000;
	me->next_id = 1;

	err = parse_bind(&me->bind_sa, cfg->bind_addr);
	if (err) {
		log_err(MEDIA_TAG, "bad RTP bind address '%s'", cfg->bind_addr);
		goto out;
	}
	err = port_pool_init(&me->ports, cfg->rtp_min, cfg->rtp_max);
	if (err) {
		log_err(MEDIA_TAG, "bad RTP port range %u-%u", cfg->rtp_min, cfg->rtp_max);
		goto out;
	}
	err = htab_init(&me->tab, 64, 1);
	if (err)
		goto out;
	me->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (me->evfd < 0) {
		err = errno;
		goto out;
	}
	err = loop_fd_add(sig, me->evfd, EPOLLIN, on_events, me);
	if (err)
		goto out;

	unsigned n = cfg->nworkers;
	if (!n) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	me->workers = calloc(n, sizeof(*me->workers));
	if (!me->workers) {
		err = ENOMEM;
		goto out;
	}
	me->nworkers = n;
	for (unsigned i = 0; i < n; i++) {
		struct media_worker *w = &me->workers[i];
		w->me = me;
		w->idx = i;
		err = loop_alloc(&w->loop);
		if (!err)
			loop_set_pace(w->loop, cfg->coalesce_us);
		if (err)
			goto out;
		err = media_worker_start(w);
		if (err)
			goto out;
	}
	log_info(MEDIA_TAG, "%u workers, RTP ports %u-%u (%u pairs)", n,
		 me->ports.base, me->ports.base + 2 * me->ports.npairs - 1,
		 me->ports.npairs);
	*out = me;
	return 0;
out:
	media_engine_free(me);
	return err;
}

void media_engine_free(struct media_engine *me)
{
	loop_assert_owner(me ? me->sig : NULL);
	if (!me)
		return;
	media_watchdog_stop(me);
	/* workers first: after the join nothing else pushes events */
	for (unsigned i = 0; i < me->nworkers; i++)
		if (me->workers[i].started)
			media_worker_stop(&me->workers[i]);
	for (unsigned i = 0; i < me->nworkers; i++)
		loop_free(me->workers[i].loop);
	if (me->evfd >= 0) {
		loop_fd_del(me->sig, me->evfd);
		close(me->evfd);
	}
	/* undelivered events: DESTROYED ones live inside their call */
	struct squeue left = SQUEUE_INIT;
	events_take(me, &left);
	struct snode *n;
	while ((n = squeue_pop(&left))) {
		struct mevent *e = container_of(n, struct mevent, qe);
		if (e != &e->call->done)
			free(e);
	}
	struct hnode *hn;
	while ((hn = htab_iter_first(&me->tab))) {
		htab_remove(&me->tab, hn);
		free(container_of(hn, struct mcall, hn));
	}
	port_pool_fini(&me->ports);
	pthread_mutex_destroy(&me->evlock);
	free(me->workers);
	htab_fini(&me->tab);
	free(me);
}

unsigned media_engine_ports_in_use(const struct media_engine *me)
{
	loop_assert_owner(me ? me->sig : NULL);
	return me ? me->ports.used : 0;
}

unsigned media_engine_calls(const struct media_engine *me)
{
	loop_assert_owner(me ? me->sig : NULL);
	return me ? (unsigned)me->tab.count : 0;
}

unsigned media_engine_nworkers(const struct media_engine *me)
{
	return me ? me->nworkers : 0;
}

int media_engine_worker_cpu_ns(const struct media_engine *me, unsigned idx,
			       uint64_t *ns_out)
{
	loop_assert_owner(me ? me->sig : NULL);
	if (!me || idx >= me->nworkers || !ns_out || !me->workers[idx].started)
		return EINVAL;
	clockid_t cid;
	struct timespec ts;
	int err = pthread_getcpuclockid(me->workers[idx].thread, &cid);
	if (err)
		return err;
	if (clock_gettime(cid, &ts) < 0)
		return errno;
	*ns_out = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return 0;
}

const char *media_dir_name(enum media_dir d)
{
	static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
	return (unsigned)d <= MEDIA_INACTIVE ? names[d] : "?";
}

/* --- commands -------------------------------------------------------------- */

struct mcmd *media_cmd_new(enum mcmd_op op, struct mcall *c, unsigned leg, size_t extra)
{
	struct mcmd *cmd = calloc(1, sizeof(*cmd) + extra);
	if (!cmd)
		return NULL;
	cmd->op = op;
	cmd->w = c->w;
	cmd->call = c;
	cmd->leg = leg;
	return cmd;
}

/* Hands cmd to the call's worker; on failure cmd is freed. */
int media_cmd_post(struct mcmd *cmd)
{
	if (!cmd)
		return ENOMEM;
	int err = loop_post(cmd->w->loop, media_worker_cmd, cmd);
	if (err)
		free(cmd);
	return err;
}

static struct media_worker *least_loaded(struct media_engine *me)
{
	struct media_worker *best = &me->workers[0];
	for (unsigned i = 1; i < me->nworkers; i++)
		if (me->workers[i].ncalls < best->ncalls)
			best = &me->workers[i];
	return best;
}

int media_call_create(struct media_engine *me, uint32_t *call_out,
		      media_event_h *h, void *arg)
{
	loop_assert_owner(me ? me->sig : NULL);
	if (!me || !call_out)
		return EINVAL;
	struct mcall *c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	/* ids are not reused while alive, even after 2^32 calls */
	while (me->next_id == 0 || call_find(me, me->next_id))
		me->next_id++;
	c->id = me->next_id++;
	c->w = least_loaded(me);
	c->h = h;
	c->arg = arg;
	for (unsigned i = 0; i < 2; i++) {
		struct mleg *l = &c->leg[i];
		l->call = c;
		l->idx = i;
		l->rtp.fd = -1;
		l->rtcp.fd = -1;
		rtp_stats_init(&l->rx, me->cfg.clock_rate);
		loop_timer_init(&l->timeout);
	}
	media_watchdog_kick(me);
	c->done.call = c;
	c->done.ev.type = MEDIA_EV_DESTROYED;
	c->done.ev.call = c->id;
	int err = media_cmd_post(media_cmd_new(CMD_CREATE, c, 0, 0));
	if (err) {
		free(c);
		return err;
	}
	call_insert(me, c);
	c->w->ncalls++;
	*call_out = c->id;
	return 0;
}

int media_leg_alloc(struct media_engine *me, uint32_t call, unsigned leg,
		    uint16_t *port_out)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	if (leg > 1 || !port_out)
		return EINVAL;
	if (c->port[leg])
		return EALREADY;
	struct mcmd *cmd = media_cmd_new(CMD_LEG_OPEN, c, leg, 0);
	if (!cmd)
		return ENOMEM;
	int err = port_pair_open(&me->ports, &me->bind_sa, &cmd->u.open.port, cmd->u.open.fd);
	if (err) {
		log_warn(MEDIA_TAG, "call %u leg %u: no RTP port pair: %s", call, leg, strerror(err));
		free(cmd);
		return err;
	}
	uint16_t port = cmd->u.open.port;
	int fds[2] = { cmd->u.open.fd[0], cmd->u.open.fd[1] };
	err = media_cmd_post(cmd);
	if (err) {
		close(fds[0]);
		close(fds[1]);
		port_pair_release(&me->ports, port);
		return err;
	}
	c->port[leg] = port;
	*port_out = port;
	return 0;
}

int media_leg_set_remote(struct media_engine *me, uint32_t call, unsigned leg,
			 const struct media_remote *r)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	if (leg > 1 || !r)
		return EINVAL;
	sa_family_t fam = me->bind_sa.ss_family;
	if (r->rtp.ss_family != fam || (r->rtcp.ss_family && r->rtcp.ss_family != fam))
		return EAFNOSUPPORT;
	if (media_sa_port(&r->rtp) == 0)
		return EINVAL;
	struct mcmd *cmd = media_cmd_new(CMD_SET_REMOTE, c, leg, 0);
	if (!cmd)
		return ENOMEM;
	cmd->u.remote = *r;
	if (!cmd->u.remote.rtcp.ss_family) {
		/* RFC 3550 11: RTCP on the next higher (odd) port */
		cmd->u.remote.rtcp = r->rtp;
		media_sa_set_port(&cmd->u.remote.rtcp, (uint16_t)(media_sa_port(&r->rtp) + 1));
	}
	if (!cmd->u.remote.clock_rate)
		cmd->u.remote.clock_rate = me->cfg.clock_rate;
	return media_cmd_post(cmd);
}

int media_call_connect(struct media_engine *me, uint32_t call)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	if (!c->port[0] || !c->port[1])
		return ENOTCONN;
	return media_cmd_post(media_cmd_new(CMD_CONNECT, c, 0, 0));
}

int media_leg_start(struct media_engine *me, uint32_t call, unsigned leg)
{
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	if (leg > 1)
		return EINVAL;
	if (!c->port[leg])
		return ENOTCONN;
	return media_cmd_post(media_cmd_new(CMD_LEG_START, c, leg, 0));
}

int media_leg_set_direction(struct media_engine *me, uint32_t call,
			    unsigned leg, enum media_dir dir)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	if (leg > 1 || (unsigned)dir > MEDIA_INACTIVE)
		return EINVAL;
	struct mcmd *cmd = media_cmd_new(CMD_DIRECTION, c, leg, 0);
	if (!cmd)
		return ENOMEM;
	cmd->u.dir = dir;
	return media_cmd_post(cmd);
}

int media_call_stats(struct media_engine *me, uint32_t call)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	return media_cmd_post(media_cmd_new(CMD_STATS, c, 0, 0));
}

int media_call_destroy(struct media_engine *me, uint32_t call)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	int err = media_cmd_post(media_cmd_new(CMD_DESTROY, c, 0, 0));
	if (!err)
		c->dying = true;
	return err;
}

/* Engine-wide counters: each worker adds to its own, relaxed (they are
 * statistics; no ordering with anything else is needed). */
void media_engine_totals(const struct media_engine *me, uint64_t *relayed, uint64_t *lost)
{
	uint64_t r = 0, l = 0;
	for (unsigned i = 0; me && i < me->nworkers; i++) {
		r += atomic_load_explicit(&me->workers[i].relayed, memory_order_relaxed);
		l += atomic_load_explicit(&me->workers[i].lost, memory_order_relaxed);
	}
	if (relayed)
		*relayed = r;
	if (lost)
		*lost = l;
}
