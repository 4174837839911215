/*
 * `hookflash voicemail list|show|unlock|set`: the mailboxes in the
 * database (no daemon needed): counts and locks, one mailbox's messages,
 * lifting a PIN lock, and the mailbox's settings (e-mail, quotas, on/off).
 * The PIN itself is set with `extension set N --pin`. Also where the
 * tool gets the PIN rules ([voicemail] in DATA_DIR/hookflash.conf, then
 * what the web's settings page saved over it), so it refuses the PINs
 * the daemon and the web refuse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../../db/db.h"
#include "../../db/voicemail.h"
#include "../base/conf.h"
#include "cli.h"
#include "table.h"

#define U_VLIST "voicemail list [NUMBER]"
#define U_VSHOW "voicemail show NUMBER"
#define U_VUNLOCK "voicemail unlock NUMBER"
#define U_VSET                                                                         \
	"voicemail set NUMBER [--email ADDR] [--email-delete on|off] [--max-messages N]" \
	" [--max-seconds N] [--enabled on|off]"
#define U_VALL "voicemail list|show|unlock|set ..."

/* The key the web's settings page saves a setting under (pbx_settings.h's
 * PBX_SETTING_PREFIX, which the tool may not include). */
#define SAVED_PREFIX "conf."

void cli_vm_policy(struct cli *c, struct db *db)
{
	struct conf cf;
	conf_defaults(&cf);
	char path[400], err[256];
	snprintf(path, sizeof(path), "%s/hookflash.conf", c->data_dir);
	conf_load_file(&cf, path, err, sizeof(err)); /* none, or broken: the defaults */
	static const char *const keys[] = { "voicemail.pin_min_length", "voicemail.pin_lock_after",
					    "voicemail.pin_lock_seconds" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char k[64], v[32];
		snprintf(k, sizeof(k), SAVED_PREFIX "%s", keys[i]);
		if (db_setting_get(db, k, v, sizeof(v)) == 0)
			conf_set_name(&cf, keys[i], v, err, sizeof(err));
	}
	struct db_vm_policy p = { .pin_min_len = cf.vm_pin_min_len,
				  .lock_after = cf.vm_pin_lock_after,
				  .lock_secs = cf.vm_pin_lock_secs };
	db_vm_policy_set(db, &p);
}

static void fmt_time(char *out, size_t cap, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	out[0] = '\0';
	if (t > 0 && localtime_r(&tt, &tm))
		strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
}

struct mb_row {
	char num[DB_EXT_NUMBER_MAX], counts[2][12], locked[40], email[256];
	const char *on, *pin;
};

struct mb_rows {
	struct mb_row *row;
	size_t n, cap;
	const char *only;
	bool oom;
	int64_t now;
};

static void collect_mb(const struct db_mailbox *m, int nn, int no, void *arg)
{
	struct mb_rows *r = arg;
	if (r->oom || (r->only && strcmp(r->only, m->mailbox)))
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct mb_row *a = realloc(r->row, cap * sizeof(*a));
		if (!a) {
			r->oom = true;
			return;
		}
		r->row = a;
		r->cap = cap;
	}
	struct mb_row *w = &r->row[r->n++];
	snprintf(w->num, sizeof(w->num), "%s", m->mailbox);
	snprintf(w->counts[0], sizeof(w->counts[0]), "%d", nn);
	snprintf(w->counts[1], sizeof(w->counts[1]), "%d", no);
	if (m->locked_until > r->now)
		fmt_time(w->locked, sizeof(w->locked), m->locked_until);
	else
		snprintf(w->locked, sizeof(w->locked), "-");
	snprintf(w->email, sizeof(w->email), "%s", m->email[0] ? m->email : "-");
	w->on = m->enabled ? "yes" : "no";
	w->pin = m->has_pin ? "set" : "none";
}

static int vm_list(struct cli *c, int argc, char **argv)
{
	const char *pos[1] = { NULL };
	int rc = cli_parse(argc, argv, NULL, pos, 0, 1, NULL, U_VLIST);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct mb_rows r = { .only = pos[0], .now = (int64_t)time(NULL) };
	int n = db_vm_mailbox_list(db, collect_mb, &r);
	if (n < 0)
		rc = cli_fail("cannot list mailboxes: %s", db_errmsg(db));
	else if (r.oom)
		rc = cli_fail("out of memory");
	db_close(db);
	if (!rc && pos[0] && !r.n)
		rc = cli_fail("no extension %s", pos[0]);
	enum { NCOLS = 7 };
	const char **cells = NULL;
	if (!rc && r.n && !(cells = calloc(r.n * NCOLS, sizeof(*cells))))
		rc = cli_fail("out of memory");
	if (!rc && !r.n)
		printf("no mailboxes (each extension has one)\n");
	else if (!rc) {
		for (size_t i = 0; i < r.n; i++) {
			const char **row = cells + i * NCOLS;
			row[0] = r.row[i].num;
			row[1] = r.row[i].counts[0];
			row[2] = r.row[i].counts[1];
			row[3] = r.row[i].locked;
			row[4] = r.row[i].email;
			row[5] = r.row[i].on;
			row[6] = r.row[i].pin;
		}
		static const char *const head[NCOLS] = { "MAILBOX", "NEW", "OLD", "LOCKED UNTIL",
							 "EMAIL", "ENABLED", "PIN" };
		table_print(stdout, NCOLS, head, " rr    ", cells, r.n);
	}
	free(cells);
	free(r.row);
	return rc;
}

struct msg_rows {
	struct db_vm_msg *m;
	size_t n, cap;
	bool oom;
};

static void collect_msg(const struct db_vm_msg *m, void *arg)
{
	struct msg_rows *r = arg;
	if (r->oom)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct db_vm_msg *a = realloc(r->m, cap * sizeof(*a));
		if (!a) {
			r->oom = true;
			return;
		}
		r->m = a;
		r->cap = cap;
	}
	r->m[r->n++] = *m;
}

static int vm_show(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int rc = cli_parse(argc, argv, NULL, pos, 1, 1, NULL, U_VSHOW);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct db_mailbox mb;
	struct msg_rows r = { 0 };
	int err = db_vm_mailbox_get(db, pos[0], &mb);
	if (err == ENOENT)
		rc = cli_fail("no extension %s", pos[0]);
	else if (err || (err = db_vm_msg_list(db, pos[0], collect_msg, &r)))
		rc = cli_fail("cannot read mailbox %s: %s", pos[0], db_errmsg(db));
	else if (r.oom)
		rc = cli_fail("out of memory");
	db_close(db);
	if (rc) {
		free(r.m);
		return rc;
	}
	char locked[40] = "no";
	if (mb.locked_until > (int64_t)time(NULL)) {
		snprintf(locked, sizeof(locked), "until ");
		fmt_time(locked + 6, sizeof(locked) - 6, mb.locked_until);
	}
	printf("mailbox %s: %s, PIN %s, locked %s, e-mail %s%s\n", mb.mailbox,
	       mb.enabled ? "enabled" : "disabled", mb.has_pin ? "set" : "not set", locked,
	       mb.email[0] ? mb.email : "(none)",
	       mb.email[0] && mb.email_delete ? " (deleted once sent)" : "");
	if (!r.n) {
		printf("no messages\n");
		free(r.m);
		return CLI_OK;
	}
	enum { NCOLS = 5 };
	const char **cells = calloc(r.n * NCOLS, sizeof(*cells));
	char (*txt)[3][160] = calloc(r.n, sizeof(*txt));
	if (!cells || !txt) {
		free(cells);
		free(txt);
		free(r.m);
		return cli_fail("out of memory");
	}
	for (size_t i = 0; i < r.n; i++) {
		const struct db_vm_msg *m = &r.m[i];
		snprintf(txt[i][0], sizeof(txt[i][0]), "%lld", (long long)m->id);
		if (m->caller_name[0])
			snprintf(txt[i][1], sizeof(txt[i][1]), "%.60s <%.40s>", m->caller_name, m->caller);
		else
			snprintf(txt[i][1], sizeof(txt[i][1]), "%s", m->caller[0] ? m->caller : "unknown");
		fmt_time(txt[i][2], sizeof(txt[i][2]), m->received_at);
		char *dur = txt[i][2] + strlen(txt[i][2]) + 1;
		cli_duration(dur, sizeof(txt[i][2]) - (size_t)(dur - txt[i][2]),
			     (m->duration_ms + 500) / 1000);
		const char **row = cells + i * NCOLS;
		row[0] = txt[i][0];
		row[1] = m->folder;
		row[2] = txt[i][1];
		row[3] = txt[i][2];
		row[4] = dur;
	}
	static const char *const head[NCOLS] = { "ID", "FOLDER", "CALLER", "RECEIVED", "DURATION" };
	table_print(stdout, NCOLS, head, "r   r", cells, r.n);
	free(cells);
	free(txt);
	free(r.m);
	return CLI_OK;
}

static int vm_unlock(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int rc = cli_parse(argc, argv, NULL, pos, 1, 1, NULL, U_VUNLOCK);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	int err = db_vm_unlock(db, pos[0]);
	if (err == ENOENT)
		rc = cli_fail("no extension %s", pos[0]);
	else if (err)
		rc = cli_fail("cannot unlock mailbox %s: %s", pos[0], db_errmsg(db));
	db_close(db);
	if (!rc)
		printf("mailbox %s unlocked\n", pos[0]);
	return rc;
}

static int on_off(const char *v, const char *opt, bool *out)
{
	if (!strcasecmp(v, "on") || !strcasecmp(v, "yes"))
		*out = true;
	else if (!strcasecmp(v, "off") || !strcasecmp(v, "no"))
		*out = false;
	else
		return cli_fail("%s: on or off", opt);
	return CLI_OK;
}

static int count_opt(const char *v, const char *opt, int max, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (end == v || *end || errno || n < 0 || n > max)
		return cli_fail("%s: a number from 0 to %d (0: the default)", opt, max);
	*out = (int)n;
	return CLI_OK;
}

static int vm_set(struct cli *c, int argc, char **argv)
{
	const char *pos[1], *email = NULL, *del = NULL, *maxm = NULL, *maxs = NULL, *en = NULL;
	const struct cli_opt opts[] = {
		{ "email", true, &email, NULL },
		{ "email-delete", true, &del, NULL },
		{ "max-messages", true, &maxm, NULL },
		{ "max-seconds", true, &maxs, NULL },
		{ "enabled", true, &en, NULL },
		{ 0 },
	};
	int rc = cli_parse(argc, argv, opts, pos, 1, 1, NULL, U_VSET);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (!email && !del && !maxm && !maxs && !en)
		return cli_usage(U_VSET, "nothing to change");
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	struct db_mailbox m;
	int err = db_vm_mailbox_get(db, pos[0], &m);
	if (err == ENOENT)
		rc = cli_fail("no extension %s", pos[0]);
	else if (err)
		rc = cli_fail("cannot read mailbox %s: %s", pos[0], db_errmsg(db));
	if (!rc && email && strlen(email) >= sizeof(m.email))
		rc = cli_fail("--email: at most %zu characters", sizeof(m.email) - 1);
	if (!rc && email)
		snprintf(m.email, sizeof(m.email), "%s", email);
	if (!rc && del)
		rc = on_off(del, "--email-delete", &m.email_delete);
	if (!rc && en)
		rc = on_off(en, "--enabled", &m.enabled);
	if (!rc && maxm)
		rc = count_opt(maxm, "--max-messages", DB_VM_MAX_MSGS_LIMIT, &m.max_msgs);
	if (!rc && maxs)
		rc = count_opt(maxs, "--max-seconds", DB_VM_MAX_SECS_LIMIT, &m.max_secs);
	if (!rc && (err = db_vm_mailbox_set(db, &m))) {
		const char *why = db_errmsg(db);
		if (err == EINVAL && !strncmp(why, "email: ", 7))
			rc = cli_fail("--email: %s", why + 7);
		else
			rc = cli_fail("cannot change mailbox %s: %s", pos[0], why);
	}
	db_close(db);
	if (rc)
		return rc;
	printf("mailbox %s updated\n", pos[0]);
	cli_notify_reload(c);
	return CLI_OK;
}

static const struct cli_sub subs[] = {
	{ "list", vm_list },
	{ "show", vm_show },
	{ "unlock", vm_unlock },
	{ "set", vm_set },
};

static void vm_help(void)
{
	printf("usage: hookflash " U_VLIST "\n"
	       "       hookflash " U_VSHOW "\n"
	       "       hookflash " U_VUNLOCK "\n"
	       "       hookflash " U_VSET "\n");
}

int cli_cmd_voicemail(struct cli *c, int argc, char **argv)
{
	return cli_subcommand(c, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), U_VALL,
			      "voicemail: which action?", "unknown voicemail action '%s'", vm_help);
}
