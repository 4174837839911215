/*
 * `hookflash backup` and `hookflash restore`. A backup is taken by this
 * process with its own SQLite connection (db/backup.c: the online backup
 * API, one consistent snapshot), so it works with hookflashd running,
 * calls going on, and with it stopped; the daemon's signalling loop never
 * sees it. A restore replaces the data directory's database, settings
 * and certificate, so it refuses while a daemon answers on that
 * directory's control socket: a running daemon would go on with its own
 * open database and overwrite what was restored. The previous data is
 * kept in DATA_DIR/pre-restore-<time>/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../db/db.h"
#include "cli.h"
#include "ctl_client.h"

static const char backup_usage[] =
	"hookflash backup [--output FILE] [--with-voicemail] [--with-prompts]";
static const char restore_usage[] = "hookflash restore FILE [--check]";

int cli_cmd_backup(struct cli *c, int argc, char **argv)
{
	const char *output = NULL;
	bool vm = false, prompts = false;
	const struct cli_opt opts[] = {
		{ "output", true, &output, NULL },
		{ "with-voicemail", false, NULL, &vm },
		{ "with-prompts", false, NULL, &prompts },
		{ NULL, false, NULL, NULL },
	};
	int npos;
	int rc = cli_parse(argc, argv, opts, NULL, 0, 0, &npos, backup_usage);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (access(c->db_path, F_OK))
		return cli_fail("no database at %s (wrong --data-dir?)", c->db_path);
	char def[64], tmp[600];
	if (!output || !*output) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(def, sizeof(def), "hookflash-backup-%Y%m%d-%H%M%S.tar", &tm);
		output = def;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.partial", output) >= (int)sizeof(tmp))
		return cli_fail("--output: path too long");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_fail("cannot create %s: %s", tmp, strerror(errno));
	struct db_backup_opts o = { .voicemail = vm, .prompts = prompts };
	char why[1600] = "";
	int err = db_backup_write(c->data_dir, &o, fd, why, sizeof(why));
	if (!err && fsync(fd))
		snprintf(why, sizeof(why), "cannot write %s: %s", tmp, strerror(err = errno));
	struct stat st;
	if (!err && fstat(fd, &st))
		st.st_size = 0;
	close(fd);
	if (!err && rename(tmp, output))
		snprintf(why, sizeof(why), "cannot rename %s to %s: %s", tmp, output,
			 strerror(err = errno));
	if (err) {
		unlink(tmp);
		return cli_fail("backup failed: %s", why);
	}
	printf("backup written to %s (%lld bytes%s%s)\n", output, (long long)st.st_size,
	       vm ? ", with voicemail" : "", prompts ? ", with prompts" : "");
	return CLI_OK;
}

/* CLI_OK when no daemon answers on c's control socket. */
static int daemon_stopped(struct cli *c)
{
	struct ctl_reply rep;
	int err = ctl_call(c->ctl_path, "status", NULL, 2000, &rep);
	if (!err) {
		ctl_reply_free(&rep);
		return cli_fail("hookflashd is running on %s: stop it first (systemctl stop "
				"hookflashd, or end make run), then run restore again",
				c->data_dir);
	}
	if (err == ENOENT || err == ECONNREFUSED)
		return CLI_OK;
	return cli_fail("cannot tell whether hookflashd runs on %s (%s at %s): stop it and "
			"try again",
			c->data_dir, strerror(err), c->ctl_path);
}

int cli_cmd_restore(struct cli *c, int argc, char **argv)
{
	bool check = false;
	const struct cli_opt opts[] = {
		{ "check", false, NULL, &check },
		{ NULL, false, NULL, NULL },
	};
	const char *pos[1];
	int npos;
	int rc = cli_parse(argc, argv, opts, pos, 1, 1, &npos, restore_usage);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	struct stat st;
	if (stat(c->data_dir, &st) || !S_ISDIR(st.st_mode))
		return cli_fail("no data directory %s (create it, or give --data-dir)", c->data_dir);
	char why[600] = "";
	if (check) {
		if (db_backup_verify(pos[0], c->data_dir, why, sizeof(why)))
			return cli_fail("%s: %s", pos[0], why);
		printf("%s is a good backup (its files match the manifest; the database "
		       "passes integrity_check)\n",
		       pos[0]);
		return CLI_OK;
	}
	if ((rc = daemon_stopped(c)))
		return rc;
	char kept[600];
	if (db_backup_restore(pos[0], c->data_dir, kept, sizeof(kept), why, sizeof(why)))
		return cli_fail("restore refused: %s: %s", pos[0], why);
	printf("restored %s onto %s\nthe previous data is in %s\nstart hookflashd to use it\n",
	       pos[0], c->data_dir, kept);
	return CLI_OK;
}
