/*
 * hookflashd: reads its settings, makes sure the data directory and its
 * database exist (a fresh one gets a usable default setup whose generated
 * credentials are printed once, here, to stdout and never to the log),
 * then runs the signalling loop until SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../db/db.h"
#include "base/conf.h"
#include "base/log.h"
#include "pbx/pbx.h"

/* Credentials arrive one by one after the setup commits; they are
 * printed together under a heading, to stdout only. */
struct creds {
	char lines[16][200];
	int n;
};

static void collect_cred(const char *what, const char *user, const char *secret, void *arg)
{
	struct creds *c = arg;
	if (c->n < 16)
		snprintf(c->lines[c->n++], sizeof(c->lines[0]), "  %-10s %-8s %s", what, user, secret);
}

/* On a terminal the credentials are printed; under a service manager
 * stdout is the journal, and secrets are never logged, so they go to a
 * file only root and the PBX's user can read, and the log says where. */
static void show_credentials(const char *data_dir, const struct creds *cr)
{
	FILE *out = stdout;
	char path[320];
	if (!isatty(STDOUT_FILENO)) {
		snprintf(path, sizeof(path), "%s/initial-credentials.txt", data_dir);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!out) {
			log_err("main", "cannot write %s: %s", path, strerror(errno));
			return;
		}
		log_warn("main", "new setup: generated credentials are in %s (read it, then delete it)", path);
	}
	fprintf(out, "\nNew Hookflash setup in %s. These credentials are shown only once:\n\n", data_dir);
	for (int i = 0; i < cr->n; i++)
		fprintf(out, "%s\n", cr->lines[i]);
	fprintf(out, "\nSIP phones: user = extension number, password as above.\n"
		     "Voicemail: dial *97 from the extension's phone and key its PIN above, then #.\n"
		     "Manage with: hookflash --data-dir %s extension ...\n\n", data_dir);
	if (out != stdout)
		fclose(out);
}

/* Creates the data directory and database on first start, and lays the
 * settings saved from the web UI over the file's and the flags'. */
static int prepare_data_dir(struct conf *c)
{
	if (mkdir(c->data_dir, 0750) < 0 && errno != EEXIST) {
		log_err("main", "cannot create data directory %s: %s", c->data_dir, strerror(errno));
		return errno;
	}
	char path[320];
	snprintf(path, sizeof(path), "%s/hookflash.db", c->data_dir);
	struct db *db;
	int err = db_open(&db, path);
	if (err) {
		log_err("main", "cannot open database %s: %s", path, strerror(err));
		return err;
	}
	struct creds cr = { .n = 0 };
	err = db_setup_defaults(db, collect_cred, &cr);
	if (err == 0)
		show_credentials(c->data_dir, &cr);
	explicit_bzero(&cr, sizeof(cr));
	fflush(stdout);
	if (err == 0 || err == EALREADY)
		pbx_conf_apply_saved(c, db); /* a bad set is logged and skipped */
	db_close(db);
	return err == EALREADY ? 0 : err;
}

int main(int argc, char **argv)
{
	struct conf c;
	char err[320];
	conf_defaults(&c);
	int rc = conf_from_args(&c, argc, argv, err, sizeof(err));
	if (rc < 0)
		return 0;
	if (rc) {
		fprintf(stderr, "hookflashd: %s\n", err);
		return 2;
	}
	log_set_level((enum log_level)c.log_level);
	log_set_sip_trace(c.sip_trace);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (prepare_data_dir(&c))
		return 1;
	log_set_level((enum log_level)c.log_level);
	log_set_sip_trace(c.sip_trace);

	struct pbx *p;
	rc = pbx_alloc(&p, &c);
	if (rc) {
		fprintf(stderr, "hookflashd: cannot start: %s\n", strerror(rc));
		return 1;
	}
	log_info("main", "Hookflash %s ready: SIP on port %u (udp, tcp), data in %s",
		 HF_VERSION, c.sip_udp_port, c.data_dir);
	printf("Hookflash %s is running. SIP: port %u (UDP and TCP). Data: %s\n"
	       "Web administration and REST API: https://<this-host>:%u/ (user admin,\n"
	       "password printed at first start; the certificate is self-signed)\n"
	       "Stop with Ctrl-C.\n",
	       HF_VERSION, c.sip_udp_port, c.data_dir, c.https_port);
	rc = pbx_run(p);
	pbx_free(p);
	log_info("main", "stopped");
	return rc ? 1 : 0;
}
