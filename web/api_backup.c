/*
 * Backups from the web (admin only). GET /api/v1/backup downloads one
 * (?voicemail=1, ?prompts=1 add those), made on this web worker thread
 * into an unlinked file of the data directory and streamed from it, so a
 * big backup is never held in memory and the signalling loop never waits
 * for it. GET /api/v1/backups lists the scheduled ones and the settings.
 *
 * POST /api/v1/restore takes an archive (the body, up to 10 MiB), checks
 * it completely (db_backup_verify: names, hashes, integrity_check) and,
 * when good, stages it as DATA_DIR/restore-staged.tar; a bad one is
 * refused with the reason and nothing is kept. It is not applied by the
 * running daemon, on purpose: swapping the database, certificate and
 * settings under live threads (the store's open connection, the web's
 * TLS keys, calls in progress) cannot be made safe, and a restore must be
 * something the admin does knowingly, with the daemon stopped. The
 * answer says how: stop hookflashd, `hookflash restore` the staged file
 * (which keeps the previous data in DATA_DIR/pre-restore-<time>/), start
 * it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/base/log.h"
#include "../core/pbx/pbx_web.h"
#include "web_int.h"

#define STAGED "restore-staged.tar"

static bool flag_query(struct web_req *r, const char *key)
{
	const char *v = web_query(r, key);
	return v && (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"));
}

void web_api_backup(struct web_req *r)
{
	const char *dd = r->w->conf.data_dir;
	char tmp[400];
	snprintf(tmp, sizeof(tmp), "%s/.download-XXXXXX", dd);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		log_err(WEB_TAG, "backup: cannot create a file in %s: %s", dd, strerror(errno));
		web_error(r, 500, "cannot write the backup (see the daemon log)", NULL);
		return;
	}
	unlink(tmp); /* gone with the descriptor, whatever happens */
	struct db_backup_opts o = { .voicemail = flag_query(r, "voicemail"),
				    .prompts = flag_query(r, "prompts") };
	char why[1600] = "";
	int err = db_backup_write(dd, &o, fd, why, sizeof(why));
	struct stat st;
	if (!err && (fstat(fd, &st) || lseek(fd, 0, SEEK_SET) < 0))
		err = errno;
	if (err) {
		close(fd);
		log_err(WEB_TAG, "backup failed: %s", why);
		web_error(r, 500, why[0] ? why : "cannot write the backup", NULL);
		return;
	}
	time_t now = time(NULL);
	struct tm tm;
	char name[64];
	localtime_r(&now, &tm);
	strftime(name, sizeof(name), "hookflash-backup-%Y%m%d-%H%M%S.tar", &tm);
	web_header(r, "Content-Disposition", "attachment; filename=\"%s\"", name);
	log_info(WEB_TAG, "backup downloaded by %s (%lld bytes%s%s)", r->auth.username,
		 (long long)st.st_size, o.voicemail ? ", with voicemail" : "",
		 o.prompts ? ", with prompts" : "");
	web_file(r, 200, "application/x-tar", fd, 0, (uint64_t)st.st_size);
}

static json_t *how_json(const char *dd, const char *staged)
{
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "hookflash --data-dir %s restore %s", dd, staged);
	json_t *o = json_object();
	json_object_set_new(o, "staged", web_jstr(staged));
	json_object_set_new(o, "command", web_jstr(cmd));
	json_object_set_new(o, "how",
			    web_jstr("The backup is checked and staged, not applied: stop "
				     "hookflashd (systemctl stop hookflashd), run the command, "
				     "then start hookflashd. The current data is kept in "
				     "DATA_DIR/pre-restore-<time>/."));
	return o;
}

void web_api_restore(struct web_req *r)
{
	if (r->early)
		return; /* the route's admin check is all there is before the body */
	const char *dd = r->w->conf.data_dir;
	if (r->upload_len == 0) {
		web_error(r, 400, "no file in the request body (send the backup archive)", NULL);
		return;
	}
	char tmp[400], staged[400];
	snprintf(tmp, sizeof(tmp), "%s/.staging-XXXXXX", dd);
	snprintf(staged, sizeof(staged), "%s/" STAGED, dd);
	int out = mkstemp(tmp);
	bool ok = out >= 0 && lseek(r->upload_fd, 0, SEEK_SET) == 0;
	char buf[65536];
	for (uint64_t done = 0; ok && done < r->upload_len;) {
		ssize_t n = read(r->upload_fd, buf, sizeof(buf));
		ok = n > 0 && write(out, buf, (size_t)n) == n;
		done += n > 0 ? (uint64_t)n : 0;
	}
	if (out >= 0 && close(out))
		ok = false;
	if (!ok) {
		log_err(WEB_TAG, "restore: cannot stage the upload in %s: %s", dd, strerror(errno));
		if (out >= 0)
			unlink(tmp);
		web_error(r, 500, "cannot store the uploaded backup (see the daemon log)", NULL);
		return;
	}
	char why[1600] = "";
	int err = db_backup_verify(tmp, dd, why, sizeof(why));
	if (err) {
		unlink(tmp);
		log_warn(WEB_TAG, "restore upload by %s refused: %s", r->auth.username, why);
		web_error(r, err == EINVAL ? 400 : 500, why, "file");
		return;
	}
	if (rename(tmp, staged)) {
		unlink(tmp);
		web_error(r, 500, "cannot stage the backup (see the daemon log)", NULL);
		return;
	}
	log_info(WEB_TAG, "restore staged by %s in %s: apply it with the daemon stopped",
		 r->auth.username, staged);
	web_json(r, 202, how_json(dd, staged));
}

void web_api_backups_list(struct web_req *r)
{
	struct conf *c = malloc(sizeof(*c));
	int err = c ? pbx_web_conf(r->w->pw, c) : ENOMEM;
	if (err) {
		free(c);
		web_loop_error(r, err);
		return;
	}
	const char *dd = r->w->conf.data_dir;
	char dir[400];
	if (c->backup_dir[0])
		snprintf(dir, sizeof(dir), "%s", c->backup_dir);
	else
		snprintf(dir, sizeof(dir), "%s/backups", dd);
	json_t *o = json_object();
	json_object_set_new(o, "schedule", web_jstr(c->backup_schedule));
	json_object_set_new(o, "keep", json_integer(c->backup_keep));
	json_object_set_new(o, "dir", web_jstr(dir));
	json_object_set_new(o, "voicemail", json_boolean(c->backup_voicemail));
	free(c);
	json_object_set_new(o, "newest", json_integer(db_backup_newest(dir)));
	char staged[400];
	struct stat st;
	snprintf(staged, sizeof(staged), "%s/" STAGED, dd);
	json_object_set_new(o, "restore", stat(staged, &st) ? json_null() : how_json(dd, staged));
	web_json(r, 200, o);
}
