/*
 * Link-time stand-ins for the call-layer tests (call_fakes.c): a media
 * engine that records every command the call layer makes and delivers the
 * events a test injects, and the socket half of the SIP transport
 * (core/sip/transport_udp.c and transport_tcp.c) so the real transport.c
 * hands every outgoing message to a test hook instead of a socket. Only
 * test binaries that link call_fakes.o get them (see the Makefile's
 * CALL_HARNESS_TESTS rule); the library's engine.o, engine_leg.o,
 * transport_udp.o and transport_tcp.o are then never pulled.
 */
#ifndef HF_TESTS_CALL_FAKES_H
#define HF_TESTS_CALL_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../core/media/media.h"
#include "../../core/sip/transport.h"

/* --- media ----------------------------------------------------------------- */

/* One command the call layer gave the engine, in order. */
struct fmedia_cmd {
	char op[32];     /* the function's name without "media_": "call_create",
			  * "leg_alloc", "leg_set_remote", "leg_set_format",
			  * "leg_set_srtp", "leg_set_direction", "call_connect",
			  * "leg_tone", "leg_play", "leg_stop", "leg_send_dtmf",
			  * "call_destroy", ... */
	uint32_t call;
	int leg;         /* -1 for call-wide commands */
	char arg[64];    /* tone name, "on"/"off" (SRTP), direction, digit, codec
			  * name and PT ("PCMU/0"), remote "ip:port" */
};

#define FMEDIA_MAX_CMDS 1024
#define FMEDIA_MAX_CALLS 64

struct fmedia_call {
	uint32_t id;
	media_event_h *h;
	void *arg;
	bool connected, destroyed, gone; /* gone: DESTROYED delivered */
	uint16_t port[2];
	bool has_format[2], srtp[2];
	struct media_fmt fmt[2];
	struct media_remote remote[2];
	enum media_dir dir[2];
	char playing[2][32];             /* tone playing to the leg, "" none */
};

struct fmedia {
	struct fmedia_cmd cmds[FMEDIA_MAX_CMDS];
	size_t ncmds;
	struct fmedia_call calls[FMEDIA_MAX_CALLS];
	size_t ncalls;
	uint16_t next_port;
	/* errors to return (0: success) */
	int err_tone;        /* media_leg_tone: ENOSYS is "cannot play" */
	int err_create;
	/* DESTROYED waits for fmedia_deliver() (the real engine answers
	 * later, from its worker) unless hold_destroyed keeps it back */
	bool hold_destroyed;
	bool engine_alive;
};

extern struct fmedia fmedia;

void fmedia_reset(void);
/* The call the engine created last (0: none). */
uint32_t fmedia_last_call(void);
struct fmedia_call *fmedia_call(uint32_t id);
/* Commands named op on call (0: any) and leg (-1: any), counted, or the
 * index of the first at or after `from` (-1: none). */
size_t fmedia_count(const char *op, uint32_t call, int leg);
int fmedia_find(const char *op, uint32_t call, int leg, size_t from);
/* Hands ev to the handler the call layer registered for ev->call. */
void fmedia_event(const struct media_event *ev);
/* Delivers the DESTROYED events owed (unless held); returns how many. */
size_t fmedia_deliver(void);
/* Prints the command log (for a failing test's output). */
void fmedia_dump(void);

/* --- SIP sockets ----------------------------------------------------------- */

/* Every message the transport sends (through the transaction layer or
 * directly, like ACKs and 2xx retransmissions) reaches h. */
typedef int(fake_tp_send_h)(const struct sip_peer *to, const char *data, size_t len,
			    void *arg);
void fake_tp_set_send(fake_tp_send_h *h, void *arg);

#endif
