/*
 * Test doubles linked into the call-layer test binaries instead of the
 * library's media engine (core/media/engine.c, engine_leg.c) and SIP
 * sockets (core/sip/transport_udp.c, transport_tcp.c): see call_fakes.h.
 * Every public function of core/media/media.h is defined here, so the
 * archive member holding the real one is never needed; a link that pulled
 * it anyway would fail with duplicate symbols, which is the check that
 * the substitution holds. No threads, no sockets: commands are recorded,
 * events are delivered on the test's thread when it says so.
 */
#include "call_fakes.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../core/media/codecs/codec.h"
#include "../../core/sip/transport_int.h"

struct fmedia fmedia;

void fmedia_reset(void)
{
	memset(&fmedia, 0, sizeof(fmedia));
	fmedia.next_port = 40000;
}

struct fmedia_call *fmedia_call(uint32_t id)
{
	for (size_t i = 0; i < fmedia.ncalls; i++)
		if (fmedia.calls[i].id == id)
			return &fmedia.calls[i];
	return NULL;
}

uint32_t fmedia_last_call(void)
{
	return fmedia.ncalls ? fmedia.calls[fmedia.ncalls - 1].id : 0;
}

static void record(const char *op, uint32_t call, int leg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void record(const char *op, uint32_t call, int leg, const char *fmt, ...)
{
	if (fmedia.ncmds == FMEDIA_MAX_CMDS)
		return;
	struct fmedia_cmd *c = &fmedia.cmds[fmedia.ncmds++];
	snprintf(c->op, sizeof(c->op), "%s", op);
	c->call = call;
	c->leg = leg;
	c->arg[0] = '\0';
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->arg, sizeof(c->arg), fmt, ap);
		va_end(ap);
	}
}

size_t fmedia_count(const char *op, uint32_t call, int leg)
{
	size_t n = 0;
	for (size_t i = 0; i < fmedia.ncmds; i++) {
		const struct fmedia_cmd *c = &fmedia.cmds[i];
		if (!strcmp(c->op, op) && (!call || c->call == call) && (leg < 0 || c->leg == leg))
			n++;
	}
	return n;
}

int fmedia_find(const char *op, uint32_t call, int leg, size_t from)
{
	for (size_t i = from; i < fmedia.ncmds; i++) {
		const struct fmedia_cmd *c = &fmedia.cmds[i];
		if (!strcmp(c->op, op) && (!call || c->call == call) && (leg < 0 || c->leg == leg))
			return (int)i;
	}
	return -1;
}

void fmedia_dump(void)
{
	for (size_t i = 0; i < fmedia.ncmds; i++) {
		const struct fmedia_cmd *c = &fmedia.cmds[i];
		printf("# media %3zu: %-18s call %u leg %2d %s\n", i, c->op, c->call, c->leg, c->arg);
	}
}

void fmedia_event(const struct media_event *ev)
{
	struct fmedia_call *c = fmedia_call(ev->call);
	if (!c || c->gone)
		return;
	if (c->destroyed && ev->type != MEDIA_EV_DESTROYED)
		return; /* media.h: nothing but DESTROYED after destroy */
	if (ev->type == MEDIA_EV_DESTROYED)
		c->gone = true;
	c->h(ev, c->arg);
}

size_t fmedia_deliver(void)
{
	size_t n = 0;
	if (fmedia.hold_destroyed)
		return 0;
	for (size_t i = 0; i < fmedia.ncalls; i++) {
		struct fmedia_call *c = &fmedia.calls[i];
		if (c->destroyed && !c->gone) {
			struct media_event ev;
			memset(&ev, 0, sizeof(ev));
			ev.type = MEDIA_EV_DESTROYED;
			ev.call = c->id;
			fmedia_event(&ev);
			n++;
		}
	}
	return n;
}

static struct fmedia_call *live(uint32_t call)
{
	struct fmedia_call *c = fmedia_call(call);
	return c && !c->destroyed ? c : NULL;
}

/* --- core/media/media.h ----------------------------------------------------- */

int media_engine_alloc(struct media_engine **out, struct loop *sig, const struct media_cfg *cfg)
{
	(void)sig;
	(void)cfg;
	fmedia.engine_alive = true;
	*out = (struct media_engine *)&fmedia;
	return 0;
}

void media_engine_free(struct media_engine *me)
{
	(void)me;
	fmedia.engine_alive = false;
}

int media_call_create(struct media_engine *me, uint32_t *call_out, media_event_h *h, void *arg)
{
	(void)me;
	if (fmedia.err_create)
		return fmedia.err_create;
	if (fmedia.ncalls == FMEDIA_MAX_CALLS)
		return ENOMEM;
	struct fmedia_call *c = &fmedia.calls[fmedia.ncalls++];
	memset(c, 0, sizeof(*c));
	c->id = (uint32_t)fmedia.ncalls + 100;
	c->h = h;
	c->arg = arg;
	*call_out = c->id;
	record("call_create", c->id, -1, NULL);
	return 0;
}

int media_leg_alloc(struct media_engine *me, uint32_t call, unsigned leg, uint16_t *port_out)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return c ? EINVAL : ENOENT;
	if (c->port[leg])
		return EALREADY;
	c->port[leg] = fmedia.next_port;
	fmedia.next_port += 2;
	*port_out = c->port[leg];
	record("leg_alloc", call, (int)leg, "%u", c->port[leg]);
	return 0;
}

int media_leg_set_remote(struct media_engine *me, uint32_t call, unsigned leg,
			 const struct media_remote *r)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return c ? EINVAL : ENOENT;
	c->remote[leg] = *r;
	char host[64] = "?";
	uint16_t port = 0;
	if (r->rtp.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&r->rtp;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	}
	record("leg_set_remote", call, (int)leg, "%s:%u", host, port);
	return 0;
}

int media_call_connect(struct media_engine *me, uint32_t call)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c)
		return ENOENT;
	if (!c->port[0] || !c->port[1])
		return ENOTCONN;
	c->connected = true;
	record("call_connect", call, -1, NULL);
	return 0;
}

const char *media_dir_name(enum media_dir d)
{
	switch (d) {
	case MEDIA_SENDRECV: return "sendrecv";
	case MEDIA_SENDONLY: return "sendonly";
	case MEDIA_RECVONLY: return "recvonly";
	case MEDIA_INACTIVE: return "inactive";
	}
	return "?";
}

int media_leg_set_direction(struct media_engine *me, uint32_t call, unsigned leg,
			    enum media_dir dir)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return c ? EINVAL : ENOENT;
	c->dir[leg] = dir;
	record("leg_set_direction", call, (int)leg, "%s", media_dir_name(dir));
	return 0;
}

int media_call_stats(struct media_engine *me, uint32_t call)
{
	(void)me;
	if (!live(call))
		return ENOENT;
	record("call_stats", call, -1, NULL);
	return 0;
}

int media_call_destroy(struct media_engine *me, uint32_t call)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c)
		return ENOENT;
	c->destroyed = true;
	record("call_destroy", call, -1, NULL);
	return 0;
}

unsigned media_engine_ports_in_use(const struct media_engine *me)
{
	(void)me;
	unsigned n = 0;
	for (size_t i = 0; i < fmedia.ncalls; i++)
		n += !fmedia.calls[i].gone * ((fmedia.calls[i].port[0] != 0) + (fmedia.calls[i].port[1] != 0));
	return n;
}

unsigned media_engine_calls(const struct media_engine *me)
{
	(void)me;
	unsigned n = 0;
	for (size_t i = 0; i < fmedia.ncalls; i++)
		n += !fmedia.calls[i].gone;
	return n;
}

unsigned media_engine_nworkers(const struct media_engine *me)
{
	(void)me;
	return 1;
}

int media_engine_worker_cpu_ns(const struct media_engine *me, unsigned idx, uint64_t *ns_out)
{
	(void)me;
	if (idx)
		return EINVAL;
	*ns_out = 0;
	return 0;
}

int media_leg_set_format(struct media_engine *me, uint32_t call, unsigned leg,
			 const struct media_fmt *f)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return c ? EINVAL : ENOENT;
	c->fmt[leg] = *f;
	c->has_format[leg] = true;
	record("leg_set_format", call, (int)leg, "%s/%u", f->codec ? f->codec->name : "-", f->pt);
	return 0;
}

int media_leg_set_srtp(struct media_engine *me, uint32_t call, unsigned leg,
		       const struct sdes_key *local, const struct sdes_key *remote)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return c ? EINVAL : ENOENT;
	c->srtp[leg] = local && remote;
	record("leg_set_srtp", call, (int)leg, "%s", c->srtp[leg] ? "on" : "off");
	return 0;
}

int media_call_dtmf_relay(struct media_engine *me, uint32_t call, bool on)
{
	(void)me;
	if (!live(call))
		return ENOENT;
	record("call_dtmf_relay", call, -1, "%s", on ? "on" : "off");
	return 0;
}

int media_leg_send_dtmf(struct media_engine *me, uint32_t call, unsigned leg, char digit,
			uint32_t duration_ms)
{
	(void)me;
	if (!live(call) || leg > 1)
		return ENOENT;
	record("leg_send_dtmf", call, (int)leg, "%c/%u", digit, duration_ms);
	return 0;
}

int media_leg_play(struct media_engine *me, uint32_t call, unsigned leg,
		   const char *const *files, size_t nfiles, bool loop, uint32_t tag)
{
	(void)me;
	(void)loop;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return ENOENT;
	if (!nfiles || nfiles > 16)
		return EINVAL;
	snprintf(c->playing[leg], sizeof(c->playing[leg]), "file");
	record("leg_play", call, (int)leg, "%s tag %u", files[0], tag);
	return 0;
}

int media_leg_tone(struct media_engine *me, uint32_t call, unsigned leg, const char *tone,
		   uint32_t tag)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return ENOENT;
	if (fmedia.err_tone)
		return fmedia.err_tone;
	snprintf(c->playing[leg], sizeof(c->playing[leg]), "%s", tone);
	record("leg_tone", call, (int)leg, "%s tag %u", tone, tag);
	return 0;
}

int media_leg_stop(struct media_engine *me, uint32_t call, unsigned leg)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return ENOENT;
	c->playing[leg][0] = '\0';
	record("leg_stop", call, (int)leg, NULL);
	return 0;
}

int media_leg_echo(struct media_engine *me, uint32_t call, unsigned leg, bool on)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return ENOENT;
	record("leg_echo", call, (int)leg, "%s", on ? "on" : "off");
	return 0;
}

int media_leg_start(struct media_engine *me, uint32_t call, unsigned leg)
{
	(void)me;
	struct fmedia_call *c = live(call);
	if (!c || leg > 1)
		return ENOENT;
	record("leg_start", call, (int)leg, NULL);
	return 0;
}

int media_call_record(struct media_engine *me, uint32_t call, const char *path,
		      enum media_rec_format fmt, bool stereo, uint32_t tag)
{
	(void)me;
	(void)fmt;
	(void)stereo;
	if (!live(call))
		return ENOENT;
	record("call_record", call, -1, "%s tag %u", path, tag);
	return 0;
}

int media_call_record_stop(struct media_engine *me, uint32_t call)
{
	(void)me;
	if (!live(call))
		return ENOENT;
	record("call_record_stop", call, -1, NULL);
	return 0;
}

void media_engine_totals(const struct media_engine *me, uint64_t *relayed, uint64_t *lost)
{
	(void)me;
	*relayed = *lost = 0;
}

/* --- core/sip/transport_int.h: the socket half ------------------------------ */

static fake_tp_send_h *tp_send_h;
static void *tp_send_arg;

void fake_tp_set_send(fake_tp_send_h *h, void *arg)
{
	tp_send_h = h;
	tp_send_arg = arg;
}

/* A "socket" on the address given, so sip_transport_local_for names it in
 * Via and Contact without asking the kernel. */
int tp_udp_open(struct sip_transport *t, const char *host)
{
	if (t->nudp == TP_MAX_SOCKS)
		return ENOSPC;
	struct tp_udp *u = &t->udp[t->nudp++];
	memset(u, 0, sizeof(*u));
	u->fd = -1;
	u->af = strchr(host, ':') ? AF_INET6 : AF_INET;
	snprintf(u->host, sizeof(u->host), "%s", host);
	return 0;
}

int tp_udp_send(struct sip_transport *t, const struct sip_peer *to, const char *data,
		size_t len)
{
	(void)t;
	return tp_send_h ? tp_send_h(to, data, len, tp_send_arg) : 0;
}

void tp_udp_flush(void *arg)
{
	(void)arg;
}

int tp_tcp_listen(struct sip_transport *t, const char *host)
{
	(void)t;
	(void)host;
	return 0;
}

int tp_tcp_send(struct sip_transport *t, const struct sip_peer *to, const char *data,
		size_t len)
{
	(void)t;
	return tp_send_h ? tp_send_h(to, data, len, tp_send_arg) : 0;
}

void tp_tcp_close_all(struct sip_transport *t)
{
	(void)t;
}
