/*
 * Backups of a data directory (db.h, "backup"): one POSIX tar file that
 * any tar can list, holding the database, hookflash.conf, the web's
 * certificate and key, and on request the voicemail and the prompts,
 * with a MANIFEST written last (each file's size and SHA-256, and what
 * was included) so a restore can tell a damaged archive from a good one.
 * Why tar and no compression: no library beyond what we link (SQLite,
 * OpenSSL), standard tools can inspect it, and the voicemail WAVs that
 * make most of a big backup barely compress anyway. The database is
 * copied with SQLite's online backup API from a connection of its own,
 * in one step, so the copy is one consistent snapshot while the store
 * thread goes on writing (WAL: readers and the writer do not wait for
 * each other). All of this blocks on disk: the CLI, a web worker or the
 * backup thread run it, never the signalling loop. Reading and restoring
 * an archive is in restore.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/base/log.h"
#include "../core/base/sbuf.h"
#include "db_int.h"

#define TAG "backup"
#define BLOCK 512

/* --- names ------------------------------------------------------------------ */

/* One path segment: letters, digits, '.', '_', '-', not starting with '.'
 * (no "..", no hidden temporary files). */
static bool seg_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool db_backup_name_ok(const char *name)
{
	static const char *const fixed[] = { DB_BACKUP_MANIFEST, "hookflash.db", "hookflash.conf",
					     "web/cert.pem", "web/key.pem" };
	if (!name || strlen(name) >= DB_BACKUP_NAME_MAX)
		return false;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(name, fixed[i]))
			return true;
	/* voicemail/<mailbox>/<file>, sounds/<rate>/<file> */
	const char *rest = !strncmp(name, "voicemail/", 10) ? name + 10
			   : !strncmp(name, "sounds/", 7)  ? name + 7
							    : NULL;
	if (!rest)
		return false;
	const char *slash = strchr(rest, '/');
	return slash && seg_ok(rest, (size_t)(slash - rest)) && seg_ok(slash + 1, strlen(slash + 1));
}

/* --- the database ------------------------------------------------------------- */

int db_backup_snapshot(const char *src_path, const char *dst_path, char *why, size_t cap)
{
	sqlite3 *src = NULL, *dst = NULL;
	int err = 0;
	/* read-write without CREATE: a WAL reader may need to create the
	 * -shm file; nothing is written to the database itself */
	int rc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, cap, "cannot open the database %s: %s", src ? dst_path : src_path,
			 sqlite3_errstr(rc));
		err = EIO;
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(why, cap, "cannot start copying the database: %s", sqlite3_errmsg(dst));
		err = EIO;
		goto out;
	}
	/* all pages in one step: one read transaction, one snapshot */
	rc = sqlite3_backup_step(b, -1);
	int rc2 = sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE || rc2 != SQLITE_OK) {
		snprintf(why, cap, "copying the database failed: %s",
			 sqlite3_errstr(rc != SQLITE_DONE ? rc : rc2));
		err = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? EBUSY : EIO;
	}
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	return err;
}

int db_backup_check(const char *path, char *why, size_t cap)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	int err = 0;
	if (rc != SQLITE_OK) {
		snprintf(why, cap, "the database in the archive cannot be opened: %s",
			 sqlite3_errstr(rc));
		sqlite3_close(db);
		return EINVAL;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_stmt *st = NULL;
	rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (!res || strcmp(res, "ok")) {
		snprintf(why, cap, "the database in the archive is damaged (integrity_check: %s)",
			 res ? res : sqlite3_errmsg(db));
		err = EINVAL;
	}
	sqlite3_finalize(st);
	if (!err) {
		/* a database of ours has the extensions table */
		rc = sqlite3_prepare_v2(db,
					"SELECT count(*) FROM sqlite_master WHERE type = 'table' "
					"AND name = ?",
					-1, &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 1, "extensions", -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc != SQLITE_ROW || sqlite3_column_int(st, 0) != 1) {
			snprintf(why, cap, "the database in the archive is not a Hookflash database");
			err = EINVAL;
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return err;
}

/* --- the tar writer --------------------------------------------------------------- */

struct tarw {
	int fd;
	struct sbuf manifest;
	char *why;
	size_t cap;
	int err;
};

static int write_all(struct tarw *t, const void *p, size_t n)
{
	const char *c = p;
	while (n && !t->err) {
		ssize_t w = write(t->fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			t->err = w < 0 ? errno : EIO;
			snprintf(t->why, t->cap, "cannot write the backup: %s", strerror(t->err));
			break;
		}
		c += w;
		n -= (size_t)w;
	}
	return t->err;
}

static void octal(char *dst, size_t width, uint64_t v)
{
	/* width-1 digits and a NUL, as ustar wants (the sizes we write fit
	 * 11 octal digits: 8 GiB a file) */
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), (unsigned long long)v);
	memcpy(dst, tmp + strlen(tmp) - (width - 1), width - 1);
	dst[width - 1] = '\0';
}

static int tar_header(struct tarw *t, const char *name, uint64_t size, int64_t mtime)
{
	unsigned char h[BLOCK];
	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name)); /* < 100: db_backup_name_ok */
	octal((char *)h + 100, 8, 0600);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, size);
	octal((char *)h + 136, 12, (uint64_t)(mtime > 0 ? mtime : 0));
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	return write_all(t, h, sizeof(h));
}

/* Adds the file at path as name. A file that shrinks while it is read
 * (a recording being written) is padded with zeros to the size its
 * header promised; the manifest's hash covers what was written. */
static int tar_file(struct tarw *t, const char *path, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		log_warn(TAG, "backup: skipping %s: %s", path, fd < 0 ? strerror(errno) : "not a file");
		return 0;
	}
	uint64_t size = (uint64_t)st.st_size, done = 0;
	if (size >= (1ULL << 33)) { /* 11 octal digits in the tar header */
		close(fd);
		snprintf(t->why, t->cap, "%s is too big for a backup (8 GiB or more)", path);
		return t->err = EFBIG;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		close(fd);
		snprintf(t->why, t->cap, "out of memory");
		return t->err = ENOMEM;
	}
	if (!tar_header(t, name, size, st.st_mtime)) {
		char buf[65536];
		while (done < size && !t->err) {
			size_t want = size - done < sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
			ssize_t n = read(fd, buf, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				memset(buf, 0, want);
				n = (ssize_t)want;
			}
			EVP_DigestUpdate(md, buf, (size_t)n);
			write_all(t, buf, (size_t)n);
			done += (uint64_t)n;
		}
		static const char zeros[BLOCK];
		if (size % BLOCK)
			write_all(t, zeros, BLOCK - size % BLOCK);
	}
	unsigned char d[32];
	unsigned dl = 0;
	EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	close(fd);
	char hx[65];
	db_hex(d, 32, hx);
	sbuf_printf(&t->manifest, "file %s %llu %s\n", name, (unsigned long long)size, hx);
	return t->err;
}

/* Every file of data_dir/top/<seg>/<file> whose name is a backup name. */
static int tar_tree(struct tarw *t, const char *data_dir, const char *top)
{
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/%s", data_dir, top);
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* nothing there */
	struct dirent *e;
	while (!t->err && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[900];
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		DIR *d2 = opendir(sub);
		if (!d2)
			continue;
		struct dirent *f;
		while (!t->err && (f = readdir(d2))) {
			char name[700], path[1400];
			snprintf(name, sizeof(name), "%s/%s/%s", top, e->d_name, f->d_name);
			if (!db_backup_name_ok(name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", sub, f->d_name);
			tar_file(t, path, name);
		}
		closedir(d2);
	}
	closedir(d);
	return t->err;
}

int db_backup_write(const char *data_dir, const struct db_backup_opts *o, int fd, char *why,
		    size_t cap)
{
	struct tarw t = { .fd = fd, .why = why, .cap = cap };
	sbuf_init(&t.manifest);
	char db_path[400], snap[400], path[400];
	snprintf(db_path, sizeof(db_path), "%s/hookflash.db", data_dir);
	snprintf(snap, sizeof(snap), "%s/.backup-db-XXXXXX", data_dir);
	int sfd = mkstemp(snap);
	if (sfd < 0) {
		snprintf(why, cap, "cannot create a file in %s: %s", data_dir, strerror(errno));
		return errno;
	}
	close(sfd);
	int err = db_backup_snapshot(db_path, snap, why, cap);
	time_t now = time(NULL);
	struct tm tm;
	char when[32];
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sbuf_printf(&t.manifest, "hookflash-backup 1\ncreated %s\nvoicemail %s\nprompts %s\n", when,
		    o && o->voicemail ? "yes" : "no", o && o->prompts ? "yes" : "no");
	if (!err)
		err = tar_file(&t, snap, "hookflash.db");
	unlink(snap);
	static const char *const extra[] = { "hookflash.conf", "web/cert.pem", "web/key.pem" };
	for (size_t i = 0; !err && i < sizeof(extra) / sizeof(extra[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", data_dir, extra[i]);
		if (access(path, F_OK) == 0)
			err = tar_file(&t, path, extra[i]);
	}
	if (!err && o && o->voicemail)
		err = tar_tree(&t, data_dir, "voicemail");
	if (!err && o && o->prompts)
		err = tar_tree(&t, data_dir, "sounds");
	if (!err && t.manifest.err) {
		snprintf(why, cap, "out of memory");
		err = ENOMEM;
	}
	if (!err) {
		size_t n = t.manifest.len;
		err = tar_header(&t, DB_BACKUP_MANIFEST, n, now);
		if (!err)
			write_all(&t, t.manifest.p, n);
		static const char zeros[2 * BLOCK];
		if (!t.err && n % BLOCK)
			write_all(&t, zeros, BLOCK - n % BLOCK);
		if (!t.err)
			write_all(&t, zeros, sizeof(zeros)); /* the end of the archive */
		err = t.err;
	}
	sbuf_free(&t.manifest);
	return err;
}

/* --- scheduled backups: a folder of them ------------------------------------------- */

#define PREFIX "hookflash-backup-"
#define SUFFIX ".tar"

static bool is_backup_name(const char *n)
{
	size_t l = strlen(n);
	return l > strlen(PREFIX) + strlen(SUFFIX) && !strncmp(n, PREFIX, strlen(PREFIX)) &&
	       !strcmp(n + l - strlen(SUFFIX), SUFFIX);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The backups in dir, oldest first (their names sort by time). */
static char **list_backups(const char *dir, size_t *n)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **v = NULL;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_backup_name(e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		if (!(v[*n] = strdup(e->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

int64_t db_backup_newest(const char *dir)
{
	size_t n;
	char **v = list_backups(dir, &n);
	int64_t t = 0;
	if (n) {
		char path[700];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, v[n - 1]);
		if (!stat(path, &st))
			t = st.st_mtime;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return t;
}

int db_backup_to_dir(const char *data_dir, const char *dir, const struct db_backup_opts *o,
		     unsigned keep, char *path, size_t pcap, char *why, size_t cap)
{
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(why, cap, "cannot create %s: %s", dir, strerror(errno));
		return errno;
	}
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32], tmp[700];
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(path, pcap, "%s/" PREFIX "%s" SUFFIX, dir, stamp);
	snprintf(tmp, sizeof(tmp), "%s/.partial-XXXXXX", dir);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(why, cap, "cannot create a file in %s: %s", dir, strerror(errno));
		return errno;
	}
	int err = db_backup_write(data_dir, o, fd, why, cap);
	if (!err && fsync(fd)) {
		err = errno;
		snprintf(why, cap, "cannot write %s: %s", tmp, strerror(err));
	}
	close(fd);
	if (!err && rename(tmp, path)) {
		err = errno;
		snprintf(why, cap, "cannot rename %s to %s: %s", tmp, path, strerror(err));
	}
	if (err) {
		unlink(tmp);
		return err;
	}
	/* retention: the newest keep stay */
	size_t n;
	char **v = list_backups(dir, &n);
	for (size_t i = 0; i < n; i++) {
		if (keep && i + keep < n) {
			char old[700];
			snprintf(old, sizeof(old), "%s/%s", dir, v[i]);
			if (unlink(old))
				log_warn(TAG, "cannot delete the old backup %s: %s", old, strerror(errno));
			else
				log_info(TAG, "deleted the old backup %s (keeping %u)", old, keep);
		}
		free(v[i]);
	}
	free(v);
	return 0;
}
