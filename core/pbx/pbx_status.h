/*
 * The live state of the signalling loop at one instant: uptime, counts
 * and counters. Filled in one place (pbx_status_fill, on the loop) and
 * rendered by every front end from this struct alone: the control
 * socket's "status" and the web's /api/v1/status and /metrics, which so
 * report the same figures for the same state. Plain data, no pointers,
 * so it can be copied to another thread. This header is all ctl/ and
 * web/ see of it.
 */
#ifndef HF_PBX_STATUS_H
#define HF_PBX_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct pbx_status {
	uint64_t uptime_s;      /* whole seconds on the loop's clock since start */
	time_t started_wall;    /* when the daemon started (wall clock) */
	size_t extensions, registrations, calls, bans, transactions;
	uint64_t calls_started, calls_answered, calls_failed, calls_busy, calls_no_answer,
		calls_cancelled;
	uint64_t auth_failures, reloads;
	uint64_t sip_rx, sip_tx, sip_rx_bad, tcp_connections;
	uint64_t rtp_relayed, rtp_lost; /* media engine totals since start */
};

#endif
