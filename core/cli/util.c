/*
 * What the tool's commands share (cli.h): messages and exit statuses,
 * option parsing, opening the database, nudging a running daemon, reading
 * a password without echo.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "../../db/db.h"
#include "../base/duration.h"
#include "../ctl/ctl_proto.h"
#include "ctl_client.h"

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "hookflash: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	return CLI_ERR;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	if (usage)
		fprintf(stderr, "usage: hookflash %s\n", usage);
	fprintf(stderr, "Try 'hookflash --help'.\n");
	return CLI_USAGE;
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, const char *name, size_t n)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == n && strncmp(opts->name, name, n) == 0)
			return opts;
	return NULL;
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts, const char **pos,
	      int minpos, int maxpos, int *npos, const char *usage)
{
	int np = 0;
	bool opts_done = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (opts_done || a[0] != '-' || a[1] == '\0') {
			if (np == maxpos)
				return cli_usage(usage, "unexpected argument '%s'", a);
			pos[np++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			printf("usage: hookflash %s\n", usage);
			return -1;
		}
		if (a[1] != '-')
			return cli_usage(usage, "unknown option '%s'", a);
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t n = eq ? (size_t)(eq - name) : strlen(name);
		const struct cli_opt *o = find_opt(opts, name, n);
		if (!o)
			return cli_usage(usage, "unknown option '--%.*s'", (int)n, name);
		if (!o->has_value) {
			if (eq)
				return cli_usage(usage, "--%s takes no value", o->name);
			*o->flag = true;
			continue;
		}
		if (eq) {
			*o->value = eq + 1;
		} else {
			if (i + 1 == argc)
				return cli_usage(usage, "--%s needs a value", o->name);
			*o->value = argv[++i];
		}
	}
	if (np < minpos)
		return cli_usage(usage, "missing argument");
	if (npos)
		*npos = np;
	return CLI_OK;
}

int cli_db_open(struct cli *c, struct db **out, bool create)
{
	struct stat st;
	if (!create && stat(c->db_path, &st) != 0 && errno == ENOENT)
		return cli_fail("no database at %s (run 'hookflash init' first, or give "
				"--data-dir)",
				c->db_path);
	char why[512];
	int err = db_open_err(out, c->db_path, why, sizeof(why));
	if (!err) {
		cli_vm_policy(c, *out);
		return CLI_OK;
	}
	if (err == EACCES || err == EPERM || err == EROFS)
		return cli_fail("cannot open database %s: %s (run as root or as the user "
				"hookflashd runs as)",
				c->db_path, strerror(err));
	return cli_fail("cannot open database %s", why);
}

int cli_subcommand(struct cli *c, int argc, char **argv, const struct cli_sub *subs, size_t n,
		   const char *usage, const char *missing, const char *unknown_fmt,
		   void (*help)(void))
{
	if (argc < 1)
		return cli_usage(usage, "%s", missing);
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			return subs[i].run(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
		help();
		return CLI_OK;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	return cli_usage(usage, unknown_fmt, argv[0]);
#pragma GCC diagnostic pop
}

void cli_notify_reload(struct cli *c)
{
	struct stat st;
	if (stat(c->ctl_path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return;
	struct ctl_reply r;
	int err = ctl_call(c->ctl_path, CTL_CMD_RELOAD, NULL, CTL_CLIENT_TIMEOUT_MS, &r);
	if (err == ENOENT || err == ECONNREFUSED)
		return; /* a socket left by a daemon that is gone */
	if (err) {
		const char *why = err == ETIMEDOUT	   ? "no answer in time"
				  : err == ECONNABORTED ? "it closed the connection without answering"
				  : err == EPROTO	   ? "its reply was not understood"
							   : strerror(err);
		cli_warn("saved, but hookflashd did not reload (%s); "
			 "run 'hookflash reload' or restart it",
			 why);
		return;
	}
	if (r.ok)
		printf("hookflashd reloaded: the change is live\n");
	else
		cli_warn("saved, but hookflashd could not reload: %s", r.msg);
	ctl_reply_free(&r);
}

int cli_read_password(char *out, size_t cap)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	if (tty) {
		fprintf(stderr, "Password: ");
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			tty = false;
		}
	}
	char *got = fgets(out, (int)cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return EIO;
	size_t n = strlen(out);
	if (n && out[n - 1] != '\n' && !feof(stdin))
		return E2BIG;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

void cli_duration(char *out, size_t cap, unsigned long long s)
{
	duration_format(out, cap, s); /* the web's fmtDur writes the same */
}
