/*
 * say.h: numbers, counts and dates as prompt names. The rules are those of
 * ast_say_number_full_en and ast_say_date_with_format_en in Asterisk's
 * main/say.c, because the recordings were cut for them: a number under 20
 * is one file, the tens are files of their own ("digits/40"), hundreds are
 * "N hundred", and thousands and millions say their multiple as a number
 * first. Ordinals exist only for 1st..20th and 30th, so the 21st is
 * "twenty" + "first". Every name is a literal from the tables below:
 * nothing is formatted, nothing is allocated.
 */
#include "say.h"

#include <errno.h>
#include <stdbool.h>

static const char *const small[] = {
	"digits/0", "digits/1", "digits/2", "digits/3", "digits/4", "digits/5", "digits/6",
	"digits/7", "digits/8", "digits/9", "digits/10", "digits/11", "digits/12", "digits/13",
	"digits/14", "digits/15", "digits/16", "digits/17", "digits/18", "digits/19", "digits/20",
};

static const char *const tens[] = {
	NULL, NULL, "digits/20", "digits/30", "digits/40", "digits/50", "digits/60",
	"digits/70", "digits/80", "digits/90",
};

static const char *const nth[] = {
	NULL, "digits/h-1", "digits/h-2", "digits/h-3", "digits/h-4", "digits/h-5", "digits/h-6",
	"digits/h-7", "digits/h-8", "digits/h-9", "digits/h-10", "digits/h-11", "digits/h-12",
	"digits/h-13", "digits/h-14", "digits/h-15", "digits/h-16", "digits/h-17", "digits/h-18",
	"digits/h-19", "digits/h-20",
};

static const char *const weekday[] = {
	"digits/day-0", "digits/day-1", "digits/day-2", "digits/day-3",
	"digits/day-4", "digits/day-5", "digits/day-6",
};

static const char *const month[] = {
	"digits/mon-0", "digits/mon-1", "digits/mon-2", "digits/mon-3", "digits/mon-4",
	"digits/mon-5", "digits/mon-6", "digits/mon-7", "digits/mon-8", "digits/mon-9",
	"digits/mon-10", "digits/mon-11",
};

void say_init(struct say_buf *b, const char **name, size_t cap)
{
	b->name = name;
	b->cap = name ? cap : 0;
	b->n = 0;
}

int say_add(struct say_buf *b, const char *name)
{
	if (!b || !name)
		return EINVAL;
	if (b->n >= b->cap)
		return ENOBUFS;
	b->name[b->n++] = name;
	return 0;
}

/* Appends without rolling back; the public functions undo a failure. */
static int number(struct say_buf *b, unsigned long num)
{
	int err = 0;

	if (num == 0)
		return say_add(b, small[0]);
	while (!err && num) {
		if (num <= 20) {
			err = say_add(b, small[num]);
			num = 0;
		} else if (num < 100) {
			err = say_add(b, tens[num / 10]);
			num %= 10;
		} else if (num < 1000) {
			err = say_add(b, small[num / 100]);
			if (!err)
				err = say_add(b, "digits/hundred");
			num %= 100;
		} else if (num < 1000000) {
			err = number(b, num / 1000);
			if (!err)
				err = say_add(b, "digits/thousand");
			num %= 1000;
		} else {
			err = number(b, num / 1000000);
			if (!err)
				err = say_add(b, "digits/million");
			num %= 1000000;
		}
	}
	return err;
}

static int done(struct say_buf *b, size_t mark, int err)
{
	if (err && b)
		b->n = mark;
	return err;
}

int say_number(struct say_buf *b, unsigned long num)
{
	if (!b)
		return EINVAL;
	if (num > 999999999ul)
		return EINVAL;
	size_t mark = b->n; /* before number() moves it */
	return done(b, mark, number(b, num));
}

int say_count(struct say_buf *b, unsigned long num, const char *adjective,
	      const char *singular, const char *plural)
{
	if (!b || !singular || !plural || num > 999999999ul)
		return EINVAL;
	size_t mark = b->n;
	int err = num ? number(b, num) : say_add(b, "vm-no");
	if (!err && adjective)
		err = say_add(b, adjective);
	if (!err)
		err = say_add(b, num == 1 ? singular : plural);
	return done(b, mark, err);
}

static int ordinal_day(struct say_buf *b, unsigned day)
{
	if (day <= 20)
		return say_add(b, nth[day]);
	if (day == 30)
		return say_add(b, "digits/h-30");
	int err = say_add(b, tens[day / 10]);
	return err ? err : say_add(b, nth[day % 10]);
}

int say_ordinal_day(struct say_buf *b, unsigned day)
{
	if (!b || day < 1 || day > 31)
		return EINVAL;
	size_t mark = b->n;
	return done(b, mark, ordinal_day(b, day));
}

static bool same_day(const struct tm *a, const struct tm *c)
{
	return a->tm_year == c->tm_year && a->tm_yday == c->tm_yday;
}

int say_datetime(struct say_buf *b, time_t when, time_t now)
{
	struct tm t, today, yday;
	/* a day before now at the same wall-clock hour: 24 h back could
	 * land two days back across a DST change at midnight, noon cannot */
	time_t noon;

	if (!b || !localtime_r(&when, &t) || !localtime_r(&now, &today))
		return EINVAL;
	yday = today;
	yday.tm_mday -= 1;
	yday.tm_hour = 12;
	yday.tm_min = yday.tm_sec = 0;
	yday.tm_isdst = -1;
	noon = mktime(&yday);
	if (noon == (time_t)-1 || !localtime_r(&noon, &yday))
		return EINVAL;

	size_t mark = b->n;
	int err;
	if (same_day(&t, &today)) {
		err = say_add(b, "digits/today");
	} else if (same_day(&t, &yday)) {
		err = say_add(b, "digits/yesterday");
	} else {
		err = say_add(b, weekday[t.tm_wday]);
		if (!err)
			err = say_add(b, month[t.tm_mon]);
		if (!err)
			err = ordinal_day(b, (unsigned)t.tm_mday);
	}
	if (!err)
		err = say_add(b, "digits/at");
	if (!err) {
		int h = t.tm_hour % 12;
		err = say_add(b, small[h ? h : 12]);
	}
	if (!err) {
		if (t.tm_min == 0) {
			err = say_add(b, "digits/oclock");
		} else if (t.tm_min < 10) {
			err = say_add(b, "digits/oh");
			if (!err)
				err = say_add(b, small[t.tm_min]);
		} else {
			err = number(b, (unsigned long)t.tm_min);
		}
	}
	if (!err)
		err = say_add(b, t.tm_hour < 12 ? "digits/a-m" : "digits/p-m");
	return done(b, mark, err);
}
