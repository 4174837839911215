/*
 * Energy voice activity detection for decoded legs (dpath.h): a frame is
 * loud when its mean power is above -40 dBFS and quiet below -46 dBFS;
 * talk starts after 3 loud frames in a row (60 ms) and ends after 25 quiet
 * ones (500 ms). The gap between the thresholds and the hang-over keep
 * one syllable or one pause from flapping the state. It costs one
 * multiply-add per sample; no spectral analysis: apps use it for "the
 * caller started speaking" (barge-in, answering-machine hints), not for
 * noise suppression.
 */
#include "dpath.h"

#define TALK_POWER 107000.0 /* (32767 * 10^(-40/20))^2 */
#define QUIET_POWER 26900.0 /* (32767 * 10^(-46/20))^2 */
#define TALK_FRAMES 3
#define QUIET_FRAMES 25

int vad_frame(struct vad *v, const int16_t *pcm, size_t n)
{
	if (!n)
		return 0;
	int64_t e = 0;
	for (size_t i = 0; i < n; i++)
		e += (int32_t)pcm[i] * pcm[i];
	double power = (double)e / (double)n;
	if (!v->talking) {
		v->run = power > TALK_POWER ? (uint16_t)(v->run + 1) : 0;
		if (v->run >= TALK_FRAMES) {
			v->talking = true;
			v->run = 0;
			return 1;
		}
	} else {
		v->run = power < QUIET_POWER ? (uint16_t)(v->run + 1) : 0;
		if (v->run >= QUIET_FRAMES) {
			v->talking = false;
			v->run = 0;
			return -1;
		}
	}
	return 0;
}
