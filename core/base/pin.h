/*
 * Voicemail PIN policy: what a PIN must look like before we store it, and
 * a generator of PINs that pass. Pure functions (no state, no I/O besides
 * the kernel's random bytes for pin_generate), so the database layer, the
 * CLI and the web API all refuse the same PINs with the same words.
 *
 * Why these rules: a mailbox can be reached from any phone (*98) and from
 * outside once trunks exist, so the PIN is the only thing between a
 * stranger and the messages (and, on many PBXs, toll fraud). The PINs
 * refused are the ones tried first by people and by scripts: one digit
 * repeated, keypad runs, the extension's own number, short patterns.
 * Runs wrap around (890123 and 210987 are runs): they are just as easy
 * to type and guess, and refusing them costs the user nothing.
 */
#ifndef HF_PIN_H
#define HF_PIN_H

#include <stddef.h>

#define PIN_MIN_DEFAULT 6  /* digits, unless [voicemail] pin_min_length */
#define PIN_MIN_LOWEST 4   /* the setting's range */
#define PIN_MIN_HIGHEST 12
#define PIN_LEN_MAX 15     /* what the extension's vm_pin field holds */

/* 0 when pin is acceptable for the extension ext_number (may be NULL or
 * ""), EINVAL otherwise with *why (static text, or a per-thread buffer
 * valid until the next check on this thread) starting "pin: ". min_len 0
 * means PIN_MIN_DEFAULT; values outside PIN_MIN_LOWEST..PIN_MIN_HIGHEST
 * are clamped. Refused: non-digits, too short or too long, one digit
 * repeated (111111), an ascending or descending run, wrapping or not
 * (123456, 987654, 890123), the extension number or a PIN containing it
 * or contained in it, a short pattern repeated (121212, 123123, 1231231). */
int pin_policy_check(const char *pin, const char *ext_number, unsigned min_len, const char **why);

/* Writes a random PIN of len digits (0: PIN_MIN_DEFAULT; clamped to
 * PIN_MIN_LOWEST..PIN_LEN_MAX), uniform over the PINs that pass
 * pin_policy_check. ENOSPC when cap <= len, EIO when the kernel has no
 * random bytes. */
int pin_generate(char *out, size_t cap, unsigned len);
/* The same, also passing the policy for extension ext_number (a random
 * PIN contains a given 2-digit number about once in twenty). */
int pin_generate_for(char *out, size_t cap, unsigned len, const char *ext_number);

#endif
