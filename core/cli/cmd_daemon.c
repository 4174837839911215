/*
 * The commands that ask the running hookflashd over its control socket:
 * status, registrations, bans, unban, reload, trace, log-level, calls
 * (also "show calls"), hangup, email test, mwi notify. Live state (who is registered now, who is
 * banned, which calls are up) only exists in the daemon, so these never
 * read the database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../ctl/ctl_proto.h"
#include "cli.h"
#include "ctl_client.h"
#include "table.h"

/* Sends one request; when it cannot be made or answered, prints why and
 * returns CLI_ERR. An answer, OK or ERR, is CLI_OK with *r filled. */
static int exchange_wait(struct cli *c, const char *cmd, const char *arg, int timeout_ms,
			 struct ctl_reply *r)
{
	int err = ctl_call(c->ctl_path, cmd, arg, timeout_ms, r);
	switch (err) {
	case 0:
		break;
	case ENOENT:
	case ECONNREFUSED:
		return cli_fail("no daemon at %s (running with another --data-dir? set "
				"HOOKFLASH_DATA_DIR)", c->ctl_path);
	case EACCES:
	case EPERM:
		return cli_fail("permission denied on the control socket %s (run as root or "
				"as the user hookflashd runs as)",
				c->ctl_path);
	case ETIMEDOUT:
		return cli_fail("hookflashd did not answer within %d s (control socket %s)",
				timeout_ms / 1000, c->ctl_path);
	case ECONNABORTED:
		return cli_fail("hookflashd closed the connection without answering "
				"(see its log)");
	case EPROTO:
		return cli_fail("hookflashd sent a reply this tool does not understand "
				"(is hookflash the same version as hookflashd?)");
	case ENAMETOOLONG:
		return cli_fail("control socket path too long: %s", c->ctl_path);
	default:
		return cli_fail("cannot talk to hookflashd at %s: %s", c->ctl_path, strerror(err));
	}
	return CLI_OK;
}

static int exchange(struct cli *c, const char *cmd, const char *arg, struct ctl_reply *r)
{
	return exchange_wait(c, cmd, arg, CTL_CLIENT_TIMEOUT_MS, r);
}

/* Sends one request; on any failure, ERR included, prints why and returns
 * CLI_ERR. */
static int call(struct cli *c, const char *cmd, const char *arg, struct ctl_reply *r)
{
	int rc = exchange(c, cmd, arg, r);
	if (rc)
		return rc;
	if (!r->ok) {
		rc = cli_fail("hookflashd: %s", r->msg[0] ? r->msg : "request refused");
		ctl_reply_free(r);
		return rc;
	}
	return CLI_OK;
}

static const char *field(const struct ctl_row *row, size_t i)
{
	return i < row->nfields ? row->field[i] : "";
}

/* For commands that take no arguments: CLI_OK, CLI_USAGE, or -1 after
 * --help. */
static int no_args(int argc, char **argv, const char *usage)
{
	return cli_parse(argc, argv, NULL, NULL, 0, 0, NULL, usage);
}

static void duration_field(char *out, size_t cap, const char *secs)
{
	char *end;
	unsigned long long s = strtoull(secs, &end, 10);
	if (end == secs || *end)
		snprintf(out, cap, "%s", secs); /* not a number: show as sent */
	else
		cli_duration(out, cap, s);
}

/* Prints a reply's rows as a table: cols[i] is the field shown in column
 * i, dur[i] whether it holds seconds to print as a duration. */
static int print_rows(const struct ctl_reply *r, size_t ncols, const char *const *head,
		      const size_t *cols, const bool *dur)
{
	const char **cells = calloc(r->nrows * ncols + 1, sizeof(*cells));
	char (*durs)[32] = calloc(r->nrows * ncols + 1, sizeof(*durs));
	if (!cells || !durs) {
		free(cells);
		free(durs);
		return cli_fail("out of memory");
	}
	for (size_t i = 0; i < r->nrows; i++) {
		for (size_t k = 0; k < ncols; k++) {
			const char *v = field(&r->rows[i], cols[k]);
			size_t at = i * ncols + k;
			if (dur && dur[k]) {
				duration_field(durs[at], sizeof(durs[at]), v);
				v = durs[at];
			}
			cells[at] = v;
		}
	}
	table_print(stdout, ncols, head, NULL, cells, r->nrows);
	free(cells);
	free(durs);
	return CLI_OK;
}

int cli_cmd_status(struct cli *c, int argc, char **argv)
{
	int rc = no_args(argc, argv, "status");
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct ctl_reply r;
	if ((rc = call(c, CTL_CMD_STATUS, NULL, &r)))
		return rc;
	/* Key/value rows: printed as two aligned columns; counters the
	 * daemon adds later show up without a change here. */
	const char **cells = calloc(r.nrows * 2 + 1, sizeof(*cells));
	char uptime[64] = "";
	if (!cells) {
		ctl_reply_free(&r);
		return cli_fail("out of memory");
	}
	for (size_t i = 0; i < r.nrows; i++) {
		const char *k = field(&r.rows[i], 0), *v = field(&r.rows[i], 1);
		if (strcmp(k, "uptime_s") == 0) {
			char d[32];
			duration_field(d, sizeof(d), v);
			snprintf(uptime, sizeof(uptime), "%s (%s)", v, d);
			v = uptime;
		}
		cells[i * 2] = k;
		cells[i * 2 + 1] = v;
	}
	table_print(stdout, 2, NULL, NULL, cells, r.nrows);
	free(cells);
	ctl_reply_free(&r);
	return CLI_OK;
}

int cli_cmd_registrations(struct cli *c, int argc, char **argv)
{
	int rc = no_args(argc, argv, "registrations");
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct ctl_reply r;
	if ((rc = call(c, CTL_CMD_REGISTRATIONS, NULL, &r)))
		return rc;
	if (!r.nrows) {
		printf("no live registrations\n");
	} else {
		static const char *const head[] = { "EXTENSION", "CONTACT", "SOURCE",
						    "EXPIRES IN", "USER AGENT" };
		static const size_t cols[] = { 0, 1, 2, 3, 4 };
		static const bool dur[] = { false, false, false, true, false };
		rc = print_rows(&r, 5, head, cols, dur);
	}
	ctl_reply_free(&r);
	return rc;
}

int cli_cmd_bans(struct cli *c, int argc, char **argv)
{
	int rc = no_args(argc, argv, "bans");
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct ctl_reply r;
	if ((rc = call(c, CTL_CMD_BANS, NULL, &r)))
		return rc;
	if (!r.nrows) {
		printf("no banned sources\n");
	} else {
		/* SCOPE "user": only USER is refused from ADDRESS, whose other
		 * phones keep working; "address": everything from it is ignored */
		static const char *const head[] = { "ADDRESS", "USER", "SCOPE", "FAILURES",
						    "BANNED FOR" };
		static const size_t cols[] = { 0, 3, 4, 1, 2 };
		static const bool dur[] = { false, false, false, false, true };
		rc = print_rows(&r, 5, head, cols, dur);
	}
	ctl_reply_free(&r);
	return rc;
}

/* Sends a command without rows and prints done on success. */
static int simple(struct cli *c, const char *cmd, const char *arg, const char *done)
{
	struct ctl_reply r;
	int rc = call(c, cmd, arg, &r);
	if (rc)
		return rc;
	ctl_reply_free(&r);
	printf("%s\n", done);
	return CLI_OK;
}

/* An argument travels inside a one-line request: no spaces, no line
 * breaks, nothing that could be a second command. */
static bool one_word(const char *a)
{
	if (!*a || strlen(a) > 100)
		return false;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int cli_cmd_unban(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int rc = cli_parse(argc, argv, NULL, pos, 1, 1, NULL, "unban ADDRESS");
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	const char *a = pos[0];
	if (!one_word(a))
		return cli_usage("unban ADDRESS", "ADDRESS: an IPv4 or IPv6 address");
	char done[160];
	snprintf(done, sizeof(done), "ban on %s lifted", a);
	return simple(c, CTL_CMD_UNBAN, a, done);
}

int cli_cmd_reload(struct cli *c, int argc, char **argv)
{
	int rc = no_args(argc, argv, "reload");
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	return simple(c, CTL_CMD_RELOAD, NULL, "hookflashd reloaded");
}

int cli_cmd_trace(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	int rc = cli_parse(argc, argv, NULL, pos, 1, 1, NULL, "trace on|off");
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (strcmp(pos[0], "on") == 0)
		return simple(c, CTL_CMD_TRACE, "on", "SIP message tracing on");
	if (strcmp(pos[0], "off") == 0)
		return simple(c, CTL_CMD_TRACE, "off", "SIP message tracing off");
	return cli_usage("trace on|off", "trace: 'on' or 'off', not '%s'", pos[0]);
}

int cli_cmd_log_level(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	const char *usage = "log-level error|warn|info|debug";
	int rc = cli_parse(argc, argv, NULL, pos, 1, 1, NULL, usage);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	int lvl = log_level_parse(pos[0]);
	if (lvl < 0)
		return cli_usage(usage, "unknown log level '%s'", pos[0]);
	const char *name = log_level_name((enum log_level)lvl);
	char done[64];
	snprintf(done, sizeof(done), "log level now %s", name);
	return simple(c, CTL_CMD_LOGLEVEL, name, done);
}

int cli_cmd_calls(struct cli *c, int argc, char **argv)
{
	int rc = no_args(argc, argv, "calls");
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct ctl_reply r;
	if ((rc = call(c, CTL_CMD_CALLS, NULL, &r)))
		return rc;
	if (!r.nrows) {
		printf("no calls in progress\n");
	} else {
		static const char *const head[] = { "ID", "CALLER", "CALLEE", "STATE",
						    "DURATION", "CODEC", "DTMF" };
		static const size_t cols[] = { 0, 1, 2, 3, 4, 5, 6 };
		static const bool dur[] = { false, false, false, false, true, false, false };
		rc = print_rows(&r, 7, head, cols, dur);
	}
	ctl_reply_free(&r);
	return rc;
}

/* "show WHAT": the same listings under one verb, for those used to it
 * from other PBXes. */
int cli_cmd_show(struct cli *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		cli_cmd_h *run;
	} what[] = {
		{ "calls", cli_cmd_calls },
	};
	const char *usage = "show calls";
	if (argc < 1)
		return cli_usage(usage, "show: what? (calls)");
	if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
		printf("usage: hookflash %s\n", usage);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++)
		if (strcmp(argv[0], what[i].name) == 0)
			return what[i].run(c, argc - 1, argv + 1);
	return cli_usage(usage, "show: unknown listing '%s'", argv[0]);
}

/* "no such call", or the same followed by a space and the id. */
static bool no_such_call(const char *msg)
{
	size_t n = strlen(CTL_ERR_NO_SUCH_CALL);
	return strncmp(msg, CTL_ERR_NO_SUCH_CALL, n) == 0 && (msg[n] == '\0' || msg[n] == ' ');
}

int cli_cmd_hangup(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	const char *usage = "hangup CALL_ID";
	int rc = cli_parse(argc, argv, NULL, pos, 1, 1, NULL, usage);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (!one_word(pos[0]))
		return cli_usage(usage, "CALL_ID: the ID column of 'hookflash calls'");
	struct ctl_reply r;
	if ((rc = exchange(c, CTL_CMD_HANGUP, pos[0], &r)))
		return rc;
	if (r.ok)
		printf("call %s hung up\n", pos[0]);
	else if (no_such_call(r.msg))
		rc = cli_fail("no call %s in progress (see 'hookflash calls')", pos[0]);
	else
		rc = cli_fail("hookflashd: %s", r.msg[0] ? r.msg : "request refused");
	ctl_reply_free(&r);
	return rc;
}

/* "email test ADDRESS [--attach FILE]": the daemon sends one message
 * through its [email] settings and we print what the SMTP server said.
 * The file is read by the daemon, so it travels as an absolute path. */
int cli_cmd_email(struct cli *c, int argc, char **argv)
{
	const char *usage = "email test ADDRESS [--attach FILE]";
	const char *attach = NULL;
	const struct cli_opt opts[] = {
		{ .name = "attach", .has_value = true, .value = &attach },
		{ 0 },
	};
	const char *pos[2];
	int rc = cli_parse(argc, argv, opts, pos, 2, 2, NULL, usage);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (strcmp(pos[0], "test") != 0)
		return cli_usage(usage, "email: only 'test' is known, not '%s'", pos[0]);
	if (!one_word(pos[1]) || !strchr(pos[1], '@'))
		return cli_usage(usage, "ADDRESS: an e-mail address such as admin@example.com");
	char arg[CTL_LINE_MAX], full[4096];
	if (attach) {
		if (!realpath(attach, full))
			return cli_fail("--attach %s: %s", attach, strerror(errno));
		for (const char *p = full; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				return cli_fail("--attach: the path may not contain blanks: %s", full);
	}
	int n = snprintf(arg, sizeof(arg), "test %s%s%s", pos[1], attach ? " " : "", attach ? full : "");
	if (n < 0 || (size_t)n >= sizeof(arg) - 16)
		return cli_fail("--attach: path too long");
	struct ctl_reply r;
	if ((rc = exchange_wait(c, CTL_CMD_EMAIL, arg, CTL_EMAIL_TIMEOUT_MS, &r)))
		return rc;
	if (r.ok)
		printf("test e-mail to %s accepted by the SMTP server\n", pos[1]);
	else
		rc = cli_fail("hookflashd: %s", r.msg[0] ? r.msg : "request refused");
	ctl_reply_free(&r);
	return rc;
}

int cli_cmd_mwi(struct cli *c, int argc, char **argv)
{
	const char *pos[2];
	const char *usage = "mwi notify MAILBOX";
	int rc = cli_parse(argc, argv, NULL, pos, 2, 2, NULL, usage);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (strcmp(pos[0], "notify") || !one_word(pos[1]) || strlen(pos[1]) > 31)
		return cli_usage(usage, "MAILBOX: an extension's number");
	char arg[48];
	snprintf(arg, sizeof(arg), "notify %s", pos[1]);
	char done[96];
	snprintf(done, sizeof(done), "lamp state of mailbox %s sent to its subscribed phones",
		 pos[1]);
	return simple(c, CTL_CMD_MWI, arg, done);
}
