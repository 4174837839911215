/* Unit tests for backups (db/backup.c, db/restore.c) and the schedule
 * setting (conf_backup_interval): which names an archive may hold, a
 * backup of a data directory checked and restored into another, the
 * previous data kept aside, retention in a folder of backups. The
 * integration test (tests/integration/backup.py) does the same against a
 * running daemon and with hostile archives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/base/conf.h"
#include "../../db/db.h"

static void test_names(void **st)
{
	(void)st;
	static const char *const good[] = { "MANIFEST", "hookflash.db", "hookflash.conf",
					    "web/cert.pem", "web/key.pem", "voicemail/1001/msg-1-2.wav",
					    "voicemail/1001/greet-busy.wav", "sounds/8000/beep.wav" };
	static const char *const bad[] = { "", "../x", "/etc/passwd", "hookflash.db/x",
					   "web/other.pem", "voicemail/1001", "voicemail/../x/y",
					   "voicemail/1001/../../x", "voicemail/1001/.hidden",
					   "voicemail/1001/a/b", "voicemail//x", "sounds/8000/a b.wav",
					   "initial-credentials.txt", "hookflash.db-wal" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(db_backup_name_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(db_backup_name_ok(bad[i]));
	char longname[200] = "voicemail/1001/";
	memset(longname + strlen(longname), 'a', 120);
	assert_false(db_backup_name_ok(longname));
}

static void test_schedule(void **st)
{
	(void)st;
	assert_int_equal(conf_backup_interval("off"), 0);
	assert_int_equal(conf_backup_interval("daily"), 86400);
	assert_int_equal(conf_backup_interval("Weekly"), 604800);
	assert_int_equal(conf_backup_interval("hourly"), 3600);
	assert_int_equal(conf_backup_interval("5s"), 5);
	assert_int_equal(conf_backup_interval("0s"), -1);
	assert_int_equal(conf_backup_interval("-5s"), -1);
	assert_int_equal(conf_backup_interval("5"), -1);
	assert_int_equal(conf_backup_interval("monthly"), -1);
	assert_int_equal(conf_backup_interval(""), -1);
	struct conf c;
	conf_defaults(&c);
	char err[200];
	assert_int_equal(conf_set_name(&c, "backup.schedule", "fortnightly", err, sizeof(err)), EINVAL);
	assert_int_equal(conf_set_name(&c, "backup.schedule", "daily", err, sizeof(err)), 0);
	char out[32];
	assert_int_equal(conf_get(&c, "backup.schedule", out, sizeof(out)), 0);
	assert_string_equal(out, "daily");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_roundtrip(void **st)
{
	(void)st;
	char top[] = "/tmp/hf-backup-test-XXXXXX";
	assert_non_null(mkdtemp(top));
	char src[300], dst[300], path[800], archive[400], kept[600], why[1600];
	snprintf(src, sizeof(src), "%s/src", top);
	snprintf(dst, sizeof(dst), "%s/dst", top);
	assert_int_equal(mkdir(src, 0700), 0);
	assert_int_equal(mkdir(dst, 0700), 0);
	snprintf(path, sizeof(path), "%s/hookflash.db", src);
	struct db *db;
	assert_int_equal(db_open(&db, path), 0);
	assert_int_equal(db_setting_set(db, "test.key", "the value"), 0);
	db_close(db);
	snprintf(path, sizeof(path), "%s/web", src);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/web/cert.pem", src);
	write_file(path, "CERT\n");
	snprintf(path, sizeof(path), "%s/voicemail", src);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/voicemail/1001", src);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/voicemail/1001/msg-1-1.wav", src);
	write_file(path, "RIFF....");
	/* the destination has data of its own, which goes aside */
	snprintf(path, sizeof(path), "%s/hookflash.conf", dst);
	write_file(path, "[general]\n");

	snprintf(archive, sizeof(archive), "%s/b.tar", top);
	int fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct db_backup_opts o = { .voicemail = true };
	assert_int_equal(db_backup_write(src, &o, fd, why, sizeof(why)), 0);
	close(fd);
	assert_int_equal(db_backup_verify(archive, dst, why, sizeof(why)), 0);
	assert_int_equal(db_backup_restore(archive, dst, kept, sizeof(kept), why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/hookflash.db", dst);
	assert_int_equal(db_open(&db, path), 0);
	char v[64];
	assert_int_equal(db_setting_get(db, "test.key", v, sizeof(v)), 0);
	assert_string_equal(v, "the value");
	db_close(db);
	snprintf(path, sizeof(path), "%s/web/cert.pem", dst);
	assert_string_equal(read_file(path), "CERT\n");
	snprintf(path, sizeof(path), "%s/voicemail/1001/msg-1-1.wav", dst);
	assert_string_equal(read_file(path), "RIFF....");
	snprintf(path, sizeof(path), "%s/hookflash.conf", kept);
	assert_string_equal(read_file(path), "[general]\n");
	snprintf(path, sizeof(path), "%s/hookflash.conf", dst);
	assert_null(read_file(path)); /* the backup had none */

	/* a damaged archive: refused, nothing changes */
	fd = open(archive, O_RDWR);
	assert_true(pwrite(fd, "\xff", 1, 512 + 4000) == 1);
	close(fd);
	assert_int_equal(db_backup_restore(archive, dst, kept, sizeof(kept), why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "does not match its MANIFEST"));

	/* retention */
	char bdir[400], bpath[800];
	snprintf(bdir, sizeof(bdir), "%s/backups", top);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(db_backup_to_dir(src, bdir, &o, 2, bpath, sizeof(bpath), why, sizeof(why)), 0);
		/* names have whole seconds: make the next one another name */
		char old[900];
		snprintf(old, sizeof(old), "%s/hookflash-backup-2000010%d-000000.tar", bdir, i + 1);
		assert_int_equal(rename(bpath, old), 0);
	}
	assert_int_equal(db_backup_to_dir(src, bdir, &o, 2, bpath, sizeof(bpath), why, sizeof(why)), 0);
	DIR *d = opendir(bdir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 2);
	assert_true(db_backup_newest(bdir) > 0);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
