/*
 * Saying numbers, counts and dates as lists of prompt names, the way
 * Asterisk's English say.c strings Allison Smith's recordings together
 * ("digits/1", "digits/hundred", "digits/15" for 115). Pure: no I/O, no
 * allocation, any thread. The caller owns the array of names (a struct
 * say_buf over it); every name handed out is a string literal, so the
 * list stays valid as long as the program runs. An app turns the names
 * into files with app_prompt() and plays them as one list.
 *
 * Every function appends to the buffer and returns 0, or ENOBUFS when the
 * names would not all fit, leaving the buffer as it was (no half-said
 * number).
 */
#ifndef HF_SAY_H
#define HF_SAY_H

#include <stddef.h>
#include <time.h>

/* The longest number: 999,999,999 is 15 names. */
#define SAY_NUMBER_MAX 15
/* A date: weekday, month, two for the day, at, hour, two for the
 * minutes, am/pm. */
#define SAY_DATETIME_MAX 9

struct say_buf {
	const char **name;
	size_t cap;
	size_t n;
};

/* An empty list over name[0..cap). */
void say_init(struct say_buf *b, const char **name, size_t cap);

/* Appends one name (a string that outlives the list). */
int say_add(struct say_buf *b, const char *name);

/* 0..999,999,999 (EINVAL above): "digits/0".."digits/20", the tens
 * "digits/30".."digits/90", "digits/hundred", "digits/thousand",
 * "digits/million"; no "and" (Asterisk's English). */
int say_number(struct say_buf *b, unsigned long num);

/* "no" or the number, the optional adjective, then singular or plural:
 * say_count(b, 5, "vm-INBOX", "vm-message", "vm-messages") is 5 new
 * messages; 0 says "vm-no" and the plural. adjective may be NULL. */
int say_count(struct say_buf *b, unsigned long num, const char *adjective,
	      const char *singular, const char *plural);

/* The day ordinal 1..31: "digits/h-1".."digits/h-20", "digits/h-30", and
 * "digits/20"/"digits/30" before "digits/h-N" for the others. */
int say_ordinal_day(struct say_buf *b, unsigned day);

/* When `when` happened, in local time (TZ), seen from `now`: "digits/today"
 * or "digits/yesterday" on those days, else the weekday "digits/day-N"
 * (0 = Sunday), the month "digits/mon-N" (0 = January) and the day's
 * ordinal; then "digits/at", the hour on a 12-hour clock, the minutes
 * ("digits/oclock" on the hour, "digits/oh" and the digit for 1-9, else
 * the number) and "digits/a-m" or "digits/p-m". */
int say_datetime(struct say_buf *b, time_t when, time_t now);

#endif
