/*
 * The one live-state snapshot (pbx_status.h), filled on the signalling
 * loop from the parts that own each figure. The control socket and the
 * web render this and nothing else, so they cannot disagree.
 */
#include "pbx.h"

#include "../base/loop.h"
#include "../call/call.h"
#include "../ident/ext_table.h"
#include "../reg/registrar.h"
#include "../sip/ban.h"
#include "../sip/transport.h"
#include "../sip/tsx.h"
#include "pbx_status.h"

void pbx_status_fill(const struct pbx *p, struct pbx_status *s)
{
	uint64_t now = loop_now(p->loop);
	struct sip_transport_stats ts;
	struct call_stats cs;
	sip_transport_stats(p->tp, &ts);
	call_mgr_stats(p->calls, &cs);
	*s = (struct pbx_status){
		.uptime_s = (now - p->started_ms) / 1000,
		.started_wall = p->started_wall,
		.extensions = ext_table_count(p->exts),
		.registrations = registrar_count(p->reg),
		.calls = call_count(p->calls),
		.bans = ban_count(p->bans, now),
		.transactions = sip_tsx_count(p->tsx),
		.calls_started = cs.started,
		.calls_answered = cs.answered,
		.calls_failed = cs.failed,
		.calls_busy = cs.busy,
		.calls_no_answer = cs.no_answer,
		.calls_cancelled = cs.cancelled,
		.auth_failures = p->authn.failures,
		.reloads = p->reloads,
		.sip_rx = ts.rx_msgs,
		.sip_tx = ts.tx_msgs,
		.sip_rx_bad = ts.rx_bad + ts.rx_too_big,
		.tcp_connections = ts.tcp_conns,
	};
	call_mgr_media_totals(p->calls, &s->rtp_relayed, &s->rtp_lost);
}
