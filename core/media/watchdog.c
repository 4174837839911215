/*
 * Media worker watchdog (signalling thread). A worker that stops running
 * (a blocking call, a runaway loop, the host starving the process) takes
 * the audio of every call on it with it, and nothing else would say so:
 * its calls stay up, the phones hear silence. While calls exist, every
 * WD_PERIOD_MS the engine posts each worker a ping; a ping unanswered for
 * WD_STALL_MS is logged once as a stall, and the answer that finally comes
 * is logged with how long the worker was gone. At most one ping per
 * worker is outstanding, so a stalled worker's queue does not fill with
 * them; with no calls the timer stops (an idle PBX wakes nobody).
 */
#include "media_int.h"

#include "../base/log.h"

#define WD_PERIOD_MS 250u
#define WD_STALL_MS 500u

/* worker thread: the answer */
static void on_ping(void *arg)
{
	struct media_worker *w = arg;
	atomic_fetch_add_explicit(&w->wd_pongs, 1, memory_order_release);
}

static void on_watch(void *arg)
{
	struct media_engine *me = arg;
	uint64_t now = loop_now(me->sig);
	bool pending = false;
	for (unsigned i = 0; i < me->nworkers; i++) {
		struct media_worker *w = &me->workers[i];
		if (!w->started)
			continue;
		uint64_t pongs = atomic_load_explicit(&w->wd_pongs, memory_order_acquire);
		if (pongs != w->wd_pings) {
			if (!w->wd_stalled && now - w->wd_ping_ms >= WD_STALL_MS) {
				w->wd_stalled = true;
				log_warn(MEDIA_TAG, "media worker %u not responding for %llu ms:"
					 " its %u calls hear nothing until it runs again", w->idx,
					 (unsigned long long)(now - w->wd_ping_ms), w->ncalls);
			}
			pending = true;
			continue;
		}
		if (w->wd_stalled) {
			w->wd_stalled = false;
			log_warn(MEDIA_TAG, "media worker %u running again after a stall of about"
				 " %llu ms", w->idx, (unsigned long long)(now - w->wd_ping_ms));
		}
		if (!me->tab.count)
			continue;
		w->wd_pings++;
		w->wd_ping_ms = now;
		if (loop_post(w->loop, on_ping, w))
			w->wd_pings--; /* out of memory: try again next time */
		else
			pending = true;
	}
	if (pending || me->tab.count)
		loop_timer_start(me->sig, &me->wd, WD_PERIOD_MS, on_watch, me);
}

void media_watchdog_kick(struct media_engine *me)
{
	if (!loop_timer_active(&me->wd))
		loop_timer_start(me->sig, &me->wd, WD_PERIOD_MS, on_watch, me);
}

void media_watchdog_stop(struct media_engine *me)
{
	loop_timer_cancel(&me->wd);
}
