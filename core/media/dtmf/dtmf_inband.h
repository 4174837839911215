/*
 * DTMF carried as tones in the audio, for phones and trunks that
 * negotiated no telephone-event: detection on the decoded 8 kHz linear PCM
 * of a leg, and generation of tones to mix into (or replace) the audio sent
 * to such a leg. Both wrap SpanDSP (dtmf_rx / dtmf_tx) with its default
 * twist, reverse twist and threshold, which are tuned to ITU-T Q.24 and the
 * Bellcore talk-off tests; we do not second-guess them.
 *
 * The states are allocated once per leg (SpanDSP's own allocation) and then
 * run per 20 ms frame on the leg's media worker without allocating.
 * Wideband legs must resample to 8 kHz first: DTMF lives below 1.7 kHz.
 */
#ifndef HF_DTMF_INBAND_H
#define HF_DTMF_INBAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtmf.h"

#define DTMF_INBAND_RATE 8000u

struct dtmf_inband_rx;
struct dtmf_inband_tx;

/* A detector that reports each tone pair once: BEGIN when SpanDSP confirms
 * the digit, END when it confirms the tone has stopped (or another digit
 * replaced it), with the duration measured in samples fed. ENOMEM. */
int dtmf_inband_rx_alloc(struct dtmf_inband_rx **out, dtmf_h *h, void *arg);
void dtmf_inband_rx_free(struct dtmf_inband_rx *rx);

/* Feeds n samples of 8 kHz audio; events are reported from inside. */
void dtmf_inband_rx_put(struct dtmf_inband_rx *rx, const int16_t *pcm, size_t n);

/* Tells the detector that n samples were lost (packet loss without PLC),
 * so a digit does not straddle the gap and durations stay right. */
void dtmf_inband_rx_gap(struct dtmf_inband_rx *rx, size_t n);

/* Number of BEGINs reported so far. */
uint64_t dtmf_inband_rx_digits(const struct dtmf_inband_rx *rx);

/* A tone generator with SpanDSP's default level (-10 dBm0 low tone, 0 dB
 * twist). ENOMEM. */
int dtmf_inband_tx_alloc(struct dtmf_inband_tx **out);
void dtmf_inband_tx_free(struct dtmf_inband_tx *tx);

/* Queues digits ('0'-'9', '*', '#', 'A'-'D'; others are refused with
 * EINVAL, nothing queued) to be played as on_ms of tone and off_ms of
 * silence each (0: SpanDSP's 50 ms and 55 ms; Q.24 wants at least 40 ms of
 * each). The timing applies to every digit not yet started. ENOSPC when
 * SpanDSP's queue (128 digits) cannot take them all. */
int dtmf_inband_tx_put(struct dtmf_inband_tx *tx, const char *digits,
		       uint32_t on_ms, uint32_t off_ms);

/* Writes up to n samples of tone (and the silence between tones) into pcm
 * and returns how many: fewer than n once the queue runs dry, so the
 * caller keeps its own audio for the rest of the frame. */
size_t dtmf_inband_tx_gen(struct dtmf_inband_tx *tx, int16_t *pcm, size_t n);

/* True from a successful put until a gen returns fewer samples than it
 * was asked for (the queue ran dry in that call). */
bool dtmf_inband_tx_busy(const struct dtmf_inband_tx *tx);

#endif
