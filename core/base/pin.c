/*
 * The voicemail PIN policy and generator (pin.h). Each rule is a small
 * predicate over the digits; the first that matches gives the reason, in
 * the order a person would fix them (what characters, how many, then
 * which patterns). Random digits come from getrandom(2), drawn by
 * rejection so every digit is equally likely (a byte mod 10 favours 0-5).
 */
#include "pin.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

static unsigned clamp_min(unsigned min_len)
{
	if (min_len == 0)
		return PIN_MIN_DEFAULT;
	if (min_len < PIN_MIN_LOWEST)
		return PIN_MIN_LOWEST;
	if (min_len > PIN_MIN_HIGHEST)
		return PIN_MIN_HIGHEST;
	return min_len;
}

static bool one_digit(const char *p, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

/* Every step is +step mod 10: 123456 (+1), 890123 (+1, wrapping),
 * 987654 and 210987 (-1, i.e. +9). */
static bool run_of(const char *p, size_t n, int step)
{
	for (size_t i = 1; i < n; i++)
		if ((p[i - 1] - '0' + step) % 10 != p[i] - '0')
			return false;
	return true;
}

/* A pattern of period < n/2+1 repeated, the last copy possibly cut short:
 * 121212 (12), 123123 (123), 1231231 (123). A period of 1 is one digit
 * repeated, reported on its own. */
static bool repeated_pattern(const char *p, size_t n)
{
	for (size_t period = 2; period <= n / 2; period++) {
		size_t i = period;
		while (i < n && p[i] == p[i - period])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

int pin_policy_check(const char *pin, const char *ext_number, unsigned min_len, const char **why)
{
	static __thread char msg[64];
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!pin) {
		*why = "pin: missing";
		return EINVAL;
	}
	size_t n = strnlen(pin, PIN_LEN_MAX + 1);
	for (size_t i = 0; i < n; i++) {
		if (pin[i] < '0' || pin[i] > '9') {
			*why = "pin: digits only (0-9)";
			return EINVAL;
		}
	}
	unsigned min = clamp_min(min_len);
	if (n < min) {
		snprintf(msg, sizeof(msg), "pin: at least %u digits", min);
		*why = msg;
		return EINVAL;
	}
	if (n > PIN_LEN_MAX) {
		*why = "pin: at most 15 digits";
		return EINVAL;
	}
	if (one_digit(pin, n)) {
		*why = "pin: one digit repeated (like 111111) is the first PIN tried";
		return EINVAL;
	}
	if (run_of(pin, n, 1) || run_of(pin, n, 9)) {
		*why = "pin: a run of digits (like 123456, 987654 or 890123) is easy to guess";
		return EINVAL;
	}
	size_t en = ext_number ? strnlen(ext_number, 64) : 0;
	if (en && (strstr(pin, ext_number) || (en >= n && memmem(ext_number, en, pin, n)))) {
		*why = "pin: must not contain the extension number or be part of it";
		return EINVAL;
	}
	if (repeated_pattern(pin, n)) {
		*why = "pin: a short pattern repeated (like 121212 or 123123) is easy to guess";
		return EINVAL;
	}
	*why = NULL;
	return 0;
}

static int random_digits(char *out, unsigned len)
{
	unsigned char buf[32];
	unsigned have = 0;
	size_t used = sizeof(buf), got = sizeof(buf);
	while (have < len) {
		if (used == got) {
			ssize_t r = getrandom(buf, sizeof(buf), 0);
			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				return EIO;
			}
			got = (size_t)r;
			used = 0;
		}
		unsigned char b = buf[used++];
		if (b >= 250) /* 250 = 25 * 10: the rest would favour 0-5 */
			continue;
		out[have++] = (char)('0' + b % 10);
	}
	out[len] = '\0';
	return 0;
}

int pin_generate_for(char *out, size_t cap, unsigned len, const char *ext_number)
{
	if (!out)
		return EINVAL;
	if (len == 0)
		len = PIN_MIN_DEFAULT;
	if (len < PIN_MIN_LOWEST)
		len = PIN_MIN_LOWEST;
	if (len > PIN_LEN_MAX)
		len = PIN_LEN_MAX;
	if (cap <= len)
		return ENOSPC;
	/* Rejection again: redraw the whole PIN until it passes. Fewer than
	 * one in a hundred random 6-digit PINs fail, so this ends at once;
	 * the bound only guards against a broken random source. */
	for (int tries = 0; tries < 1000; tries++) {
		int err = random_digits(out, len);
		if (err)
			return err;
		if (pin_policy_check(out, ext_number, len < PIN_MIN_HIGHEST ? len : PIN_MIN_HIGHEST,
				     NULL) == 0)
			return 0;
	}
	out[0] = '\0';
	return EIO;
}

int pin_generate(char *out, size_t cap, unsigned len)
{
	return pin_generate_for(out, cap, len, NULL);
}
