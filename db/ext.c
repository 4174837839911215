/*
 * Extensions: the phones' accounts (number, display name, SIP digest
 * password, voicemail PIN, enabled) and, for devices that do not register,
 * a static contact URI, the addresses trusted to be the extension without
 * digest authentication, and a concurrent-call cap; the media policy of
 * its leg (allowed codecs in order of preference, SRTP off, optional or
 * required); and its call handling (ring time, where unanswered, busy and
 * unreachable calls go, call forwarding, do-not-disturb). The SIP
 * password is stored as given, not hashed: digest authentication needs it
 * (or HA1, which is as good as the password for this realm), which is why
 * the file is 0600. Validation happens here, at the boundary, so the CLI,
 * the web API and tests all get the same rules and the same messages. The
 * voicemail PIN given in struct db_ext is not stored here: it goes through
 * the PIN policy into the extension's mailbox, hashed (voicemail.c), in the
 * same transaction; the old plain column is written '' (migration 7).
 */
#include "db_int.h"

#include "../core/base/codec_names.h"
#include "../core/base/dest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define NUMBER_MIN 2
#define NUMBER_MAX 15
#define PASSWORD_MIN 8

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A password a person can type on a phone's keypad menu: printable ASCII
 * without spaces (which forms and phone UIs tend to trim). */
static bool password_chars_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int number_check(const char *number, const char **why)
{
	size_t n = strnlen(number, DB_EXT_NUMBER_MAX);
	if (n < NUMBER_MIN || n > NUMBER_MAX || !all_digits(number, n)) {
		*why = "number: 2 to 15 digits";
		return EINVAL;
	}
	return 0;
}

/* A URI that can go into a Request-URI and a Contact header as it is:
 * sip: or sips: (scheme case-insensitive, RFC 3261 19.1.1), printable
 * ASCII without spaces, quotes or angle brackets (which would end the
 * header's <...>), and a host. Not a full RFC 3261 parse: the signalling
 * side parses it again when it uses it; this catches typos early. */
static int contact_check(const char *c, size_t cap, const char **why)
{
	size_t n = strnlen(c, cap);
	if (n == 0)
		return 0;
	if (n == cap) {
		*why = "contact: at most 255 characters";
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '<' || ch == '>' || ch == '"') {
			*why = "contact: printable ASCII only, no spaces, quotes or angle brackets";
			return EINVAL;
		}
	}
	size_t skip;
	if (strncasecmp(c, "sip:", 4) == 0)
		skip = 4;
	else if (strncasecmp(c, "sips:", 5) == 0)
		skip = 5;
	else {
		*why = "contact: must be a sip: or sips: URI (e.g. sip:192.0.2.10:5060)";
		return EINVAL;
	}
	/* host: after the last '@' of the part before any ;params or ?headers */
	const char *rest = c + skip;
	size_t end = strcspn(rest, ";?");
	const char *host = rest;
	for (size_t i = 0; i < end; i++)
		if (rest[i] == '@')
			host = rest + i + 1;
	if (host >= rest + end || *host == ':') {
		*why = "contact: the URI has no host";
		return EINVAL;
	}
	return 0;
}

/* One trust entry: an IPv4 or IPv6 address, optionally "/prefix" (decimal,
 * no leading zeros, 1-32 or 1-128) with no bits set past the prefix. */
static int trust_entry_check(const char *s, size_t n, const char **why)
{
	static const char *const bad = "trust: each entry must be an IPv4 or IPv6 "
				       "address, optionally with /prefix";
	char buf[INET6_ADDRSTRLEN + 8];
	if (n == 0) {
		*why = "trust: empty entry (a doubled comma, or one at either end)";
		return EINVAL;
	}
	if (n >= sizeof(buf)) {
		*why = bad;
		return EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	unsigned char addr[16];
	int bits;
	if (inet_pton(AF_INET, buf, addr) == 1)
		bits = 32;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		bits = 128;
	else {
		*why = bad;
		return EINVAL;
	}
	if (!slash)
		return 0;
	const char *p = slash + 1;
	size_t plen = strlen(p);
	if (plen == 0 || plen > 3 || (plen > 1 && p[0] == '0') || !all_digits(p, plen)) {
		*why = bad;
		return EINVAL;
	}
	int prefix = 0;
	for (size_t i = 0; i < plen; i++)
		prefix = prefix * 10 + (p[i] - '0');
	if (prefix > bits) {
		*why = "trust: prefix longer than the address (/32 for IPv4, /128 for IPv6)";
		return EINVAL;
	}
	if (prefix == 0) {
		/* Would let anyone on the Internet call as this extension. */
		*why = "trust: /0 would trust every address";
		return EINVAL;
	}
	for (int b = prefix; b < bits; b++) {
		if (addr[b / 8] & (0x80 >> (b % 8))) {
			*why = "trust: address has bits set past its /prefix (give the "
			       "network address)";
			return EINVAL;
		}
	}
	return 0;
}

/* Comma-separated entries, no spaces: the stored form is canonical so the
 * signalling side splits it on commas and nothing else. */
static int trust_check(const char *t, size_t cap, const char **why)
{
	size_t n = strnlen(t, cap);
	if (n == 0)
		return 0;
	if (n == cap) {
		*why = "trust: at most 255 characters";
		return EINVAL;
	}
	size_t at = 0;
	for (;;) {
		size_t len = strcspn(t + at, ",");
		if (trust_entry_check(t + at, len, why))
			return EINVAL;
		at += len;
		if (t[at] == '\0')
			return 0;
		at++; /* the comma: an entry must follow */
	}
}

/* A codec list by the one parser every layer uses (core/base/codec_names.h),
 * so the tool, the web API and the settings refuse the same input in the
 * same words. The message lives in a per-thread buffer: db_ext_validate's
 * callers use *why before they validate again. */
static int codecs_check(const char *c, size_t cap, const char **why)
{
	static __thread char msg[160];
	char rule[140];
	if (strnlen(c, cap) == cap) {
		snprintf(msg, sizeof(msg), "codecs: at most %zu characters", cap - 1);
		*why = msg;
		return EINVAL;
	}
	if (codec_list_validate(c, rule, sizeof(rule)) == 0)
		return 0;
	snprintf(msg, sizeof(msg), "codecs: %s", rule);
	*why = msg;
	return EINVAL;
}

/* A destination of the call handling ("" is the default) by the parser
 * the router uses (core/base/dest.h), so what is saved is what a call
 * can follow. An extension that sends its own calls back to itself would
 * only ring again until the call layer's hop limit ends it: refused. */
static int dest_check(const char *field, const char *d, size_t cap, const char *self,
		      const char **why)
{
	static __thread char msg[200];
	char rule[160];
	struct dest parsed;
	size_t n = strnlen(d, cap);
	if (n == 0)
		return 0;
	if (n == cap) {
		snprintf(msg, sizeof(msg), "%s: at most %zu characters", field, cap - 1);
		*why = msg;
		return EINVAL;
	}
	if (dest_parse(d, &parsed, rule, sizeof(rule))) {
		snprintf(msg, sizeof(msg), "%s: %s", field, rule);
		*why = msg;
		return EINVAL;
	}
	if (!strcmp(parsed.kind, "ext") && !strcmp(parsed.id, self)) {
		snprintf(msg, sizeof(msg),
			 "%s: ext:%s is this extension itself (its voicemail is the default)",
			 field, self);
		*why = msg;
		return EINVAL;
	}
	return 0;
}

/* A forwarding target: a number to dial, as the numbering plan writes
 * numbers (db_number_add), and not the extension's own. */
static int fwd_check(const char *field, const char *f, size_t cap, const char *self,
		     const char **why)
{
	static __thread char msg[160];
	size_t n = strnlen(f, cap);
	if (n == 0)
		return 0;
	bool ok = n < cap;
	for (size_t i = 0; ok && i < n; i++)
		ok = (f[i] >= '0' && f[i] <= '9') || f[i] == '*' || f[i] == '#' || f[i] == '+';
	if (!ok) {
		snprintf(msg, sizeof(msg), "%s: a number to dial, 1 to %zu of 0-9 * # +", field,
			 cap - 1);
		*why = msg;
		return EINVAL;
	}
	if (!strcmp(f, self)) {
		snprintf(msg, sizeof(msg), "%s: cannot forward extension %s to itself", field, self);
		*why = msg;
		return EINVAL;
	}
	return 0;
}

/* The call handling fields (migration 6); names as the web API's. */
static int calls_check(const struct db_ext *e, const char **why)
{
	if (e->ring_time != 0 &&
	    (e->ring_time < DB_EXT_RING_TIME_MIN || e->ring_time > DB_EXT_RING_TIME_MAX)) {
		*why = "ring_time: 0 (the default, 25 s) or 5 to 300 seconds";
		return EINVAL;
	}
	if (dest_check("no_answer", e->dest_noanswer, sizeof(e->dest_noanswer), e->number, why) ||
	    dest_check("busy", e->dest_busy, sizeof(e->dest_busy), e->number, why) ||
	    dest_check("unavailable", e->dest_unavail, sizeof(e->dest_unavail), e->number, why) ||
	    fwd_check("forward_all", e->fwd_all, sizeof(e->fwd_all), e->number, why) ||
	    fwd_check("forward_busy", e->fwd_busy, sizeof(e->fwd_busy), e->number, why) ||
	    fwd_check("forward_no_answer", e->fwd_noanswer, sizeof(e->fwd_noanswer), e->number, why))
		return EINVAL;
	return 0;
}

int db_ext_validate(const struct db_ext *e, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!e) {
		*why = "no extension";
		return EINVAL;
	}
	if (number_check(e->number, why))
		return EINVAL;

	size_t n = strnlen(e->name, sizeof(e->name));
	if (n == sizeof(e->name)) {
		*why = "name: at most 127 bytes";
		return EINVAL;
	}
	if (!db_text_clean(e->name, n)) {
		*why = "name: invalid UTF-8 or control characters";
		return EINVAL;
	}

	n = strnlen(e->password, sizeof(e->password));
	if (n < PASSWORD_MIN) {
		*why = "password: at least 8 characters";
		return EINVAL;
	}
	if (n == sizeof(e->password)) {
		*why = "password: at most 127 characters";
		return EINVAL;
	}
	if (!password_chars_ok(e->password, n)) {
		*why = "password: printable ASCII characters only, no spaces";
		return EINVAL;
	}

	n = strnlen(e->vm_pin, sizeof(e->vm_pin));
	if (n == sizeof(e->vm_pin) || !all_digits(e->vm_pin, n)) {
		*why = "pin: digits only, at most 15";
		return EINVAL;
	}

	if (contact_check(e->contact, sizeof(e->contact), why) ||
	    trust_check(e->trust, sizeof(e->trust), why))
		return EINVAL;
	if (e->max_calls < 0 || e->max_calls > DB_EXT_MAX_CALLS_LIMIT) {
		*why = "max_calls: 0 to 1000 (0: the default)";
		return EINVAL;
	}
	if (codecs_check(e->codecs, sizeof(e->codecs), why))
		return EINVAL;
	n = strnlen(e->srtp, sizeof(e->srtp));
	if (n && strcmp(e->srtp, "off") && strcmp(e->srtp, "optional") && strcmp(e->srtp, "required")) {
		*why = "srtp: off, optional or required";
		return EINVAL;
	}
	return calls_check(e, why);
}

static int bind_fields(sqlite3_stmt *st, const struct db_ext *e)
{
	int err = 0;
	err = err ? err : db_bind_str(st, 1, e->number, sizeof(e->number));
	err = err ? err : db_bind_str(st, 2, e->name, sizeof(e->name));
	err = err ? err : db_bind_str(st, 3, e->password, sizeof(e->password));
	err = err ? err : db_bind_str(st, 4, "", 1); /* see the header */
	if (!err && sqlite3_bind_int(st, 5, e->enabled ? 1 : 0) != SQLITE_OK)
		err = EINVAL;
	err = err ? err : db_bind_str(st, 6, e->contact, sizeof(e->contact));
	err = err ? err : db_bind_str(st, 7, e->trust, sizeof(e->trust));
	if (!err && sqlite3_bind_int(st, 8, e->max_calls) != SQLITE_OK)
		err = EINVAL;
	/* no codec list is NULL (the system default), not '' */
	if (!err && e->codecs[0])
		err = db_bind_str(st, 9, e->codecs, sizeof(e->codecs));
	else if (!err && sqlite3_bind_null(st, 9) != SQLITE_OK)
		err = EINVAL;
	err = err ? err : db_bind_str(st, 10, e->srtp[0] ? e->srtp : "optional", sizeof(e->srtp));
	/* ?11 is created_at, which only the INSERT has */
	if (!err && sqlite3_bind_int(st, 12, e->ring_time) != SQLITE_OK)
		err = EINVAL;
	err = err ? err : db_bind_str(st, 13, e->dest_noanswer, sizeof(e->dest_noanswer));
	err = err ? err : db_bind_str(st, 14, e->dest_busy, sizeof(e->dest_busy));
	err = err ? err : db_bind_str(st, 15, e->dest_unavail, sizeof(e->dest_unavail));
	err = err ? err : db_bind_str(st, 16, e->fwd_all, sizeof(e->fwd_all));
	err = err ? err : db_bind_str(st, 17, e->fwd_busy, sizeof(e->fwd_busy));
	err = err ? err : db_bind_str(st, 18, e->fwd_noanswer, sizeof(e->fwd_noanswer));
	if (!err && sqlite3_bind_int(st, 19, e->dnd ? 1 : 0) != SQLITE_OK)
		err = EINVAL;
	return err;
}

int db_ext_add(struct db *db, const struct db_ext *e)
{
	const char *why;
	if (!db)
		return EINVAL;
	if (db_ext_validate(e, &why)) {
		db_set_err(db, why);
		return EINVAL;
	}
	/* The number is claimed in the plan first, in the same transaction,
	 * so a number taken by anything (a feature code too) is refused with
	 * the plan's words, and a failed insert leaves no row behind. */
	char dest[DB_NUMBER_DEST_MAX], what[DB_NUMBER_WHAT_MAX];
	snprintf(dest, sizeof(dest), "ext:%s", e->number);
	snprintf(what, sizeof(what), "extension %s", e->number);
	bool nested;
	int err = db_tx_begin(db, &nested);
	if (err)
		return err;
	err = db_number_claim(db, e->number, dest, what, NULL, 0);
	sqlite3_stmt *st = NULL;
	if (!err)
		err = db_stmt(db,
			      "INSERT INTO extensions (number, name, password, vm_pin, enabled,"
			      " contact, trust, max_calls, codecs, srtp, created_at,"
			      " ring_time, dest_noanswer, dest_busy, dest_unavail,"
			      " fwd_all, fwd_busy, fwd_noanswer, dnd)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
			      " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
			      &st);
	if (st) {
		err = bind_fields(st, e);
		if (!err && sqlite3_bind_int64(st, 11, e->created_at > 0 ? e->created_at
								      : (int64_t)time(NULL)) != SQLITE_OK)
			err = EINVAL;
		if (!err)
			err = db_rc(db, sqlite3_step(st));
		db_stmt_done(db, st);
	}
	if (!err) /* its mailbox, and the PIN's hash when one is given */
		err = db_vm_ext_saved(db, e->number, e->vm_pin);
	return db_tx_end(db, nested, err);
}

int db_ext_update(struct db *db, const struct db_ext *e)
{
	const char *why;
	if (!db)
		return EINVAL;
	if (db_ext_validate(e, &why)) {
		db_set_err(db, why);
		return EINVAL;
	}
	bool nested;
	int err = db_tx_begin(db, &nested);
	if (err)
		return err;
	sqlite3_stmt *st;
	err = db_stmt(db,
		      "UPDATE extensions SET name = ?2, password = ?3, vm_pin = ?4, enabled = ?5,"
		      " contact = ?6, trust = ?7, max_calls = ?8, codecs = ?9, srtp = ?10,"
		      " ring_time = ?12, dest_noanswer = ?13, dest_busy = ?14,"
		      " dest_unavail = ?15, fwd_all = ?16, fwd_busy = ?17,"
		      " fwd_noanswer = ?18, dnd = ?19"
		      " WHERE number = ?1",
		      &st);
	if (!err)
		err = db_finish_change(db, st, bind_fields(st, e));
	/* vm_pin "" keeps the PIN; another one replaces it (policy-checked) */
	if (!err)
		err = db_vm_ext_saved(db, e->number, e->vm_pin);
	return db_tx_end(db, nested, err);
}

int db_ext_delete(struct db *db, const char *number)
{
	if (!db || !number)
		return EINVAL;
	/* Its registrations, its mailbox and the mailbox's messages' rows
	 * go by ON DELETE CASCADE, in the same statement (the message files
	 * are the caller's: voicemail.h); its number in the plan in the same
	 * transaction. */
	bool nested;
	int err = db_tx_begin(db, &nested);
	if (err)
		return err;
	sqlite3_stmt *st;
	err = db_stmt(db, "DELETE FROM extensions WHERE number = ?1", &st);
	if (!err)
		err = db_finish_change(db, st, db_bind_str(st, 1, number, DB_EXT_NUMBER_MAX));
	if (!err) {
		char dest[DB_NUMBER_DEST_MAX];
		snprintf(dest, sizeof(dest), "ext:%.*s", DB_EXT_NUMBER_MAX - 1, number);
		err = db_number_release(db, number, dest);
	}
	return db_tx_end(db, nested, err);
}

static void read_row(sqlite3_stmt *st, struct db_ext *e)
{
	memset(e, 0, sizeof(*e));
	db_col_str(st, 0, e->number, sizeof(e->number));
	db_col_str(st, 1, e->name, sizeof(e->name));
	db_col_str(st, 2, e->password, sizeof(e->password));
	db_col_str(st, 3, e->vm_pin, sizeof(e->vm_pin));
	e->enabled = sqlite3_column_int(st, 4) != 0;
	e->created_at = sqlite3_column_int64(st, 5);
	db_col_str(st, 6, e->contact, sizeof(e->contact));
	db_col_str(st, 7, e->trust, sizeof(e->trust));
	e->max_calls = sqlite3_column_int(st, 8);
	db_col_str(st, 9, e->codecs, sizeof(e->codecs));
	db_col_str(st, 10, e->srtp, sizeof(e->srtp));
	e->ring_time = sqlite3_column_int(st, 11);
	db_col_str(st, 12, e->dest_noanswer, sizeof(e->dest_noanswer));
	db_col_str(st, 13, e->dest_busy, sizeof(e->dest_busy));
	db_col_str(st, 14, e->dest_unavail, sizeof(e->dest_unavail));
	db_col_str(st, 15, e->fwd_all, sizeof(e->fwd_all));
	db_col_str(st, 16, e->fwd_busy, sizeof(e->fwd_busy));
	db_col_str(st, 17, e->fwd_noanswer, sizeof(e->fwd_noanswer));
	e->dnd = sqlite3_column_int(st, 18) != 0;
}

/* The columns read_row reads, in its order. */
#define EXT_COLUMNS                                                        \
	"number, name, password, vm_pin, enabled, created_at,"             \
	" contact, trust, max_calls, codecs, srtp,"                        \
	" ring_time, dest_noanswer, dest_busy, dest_unavail,"              \
	" fwd_all, fwd_busy, fwd_noanswer, dnd"

int db_ext_get(struct db *db, const char *number, struct db_ext *out)
{
	if (!db || !number || !out)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db,
			  "SELECT " EXT_COLUMNS " FROM extensions WHERE number = ?1",
			  &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, number, DB_EXT_NUMBER_MAX);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_row(st, out);
		else
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
	}
	db_stmt_done(db, st);
	return err;
}

int db_ext_list(struct db *db, db_ext_h *h, void *arg)
{
	if (!db)
		return -EINVAL;
	sqlite3_stmt *st;
	/* Ordered as numbers people read them (10 before 100), then as text
	 * so "0100" and "100" keep a stable order. */
	int err = db_stmt(db,
			  "SELECT " EXT_COLUMNS " FROM extensions ORDER BY length(number), number",
			  &st);
	if (err)
		return -err;
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_ext e;
		read_row(st, &e);
		if (h)
			h(&e, arg);
		count++;
	}
	err = db_rc(db, rc);
	db_stmt_done(db, st);
	return err ? -err : count;
}
