/*
 * Reading a backup archive back (db.h, "backup"; backup.c writes them).
 * An archive is untrusted input (an upload, a file copied around), so
 * nothing of it lands in the data directory before all of it was
 * checked: it is unpacked into a fresh folder of its own, taking only
 * regular files with names from the short list a backup can hold
 * (db_backup_name_ok: no absolute path, no "..", no links or devices,
 * no name twice), each file's size and SHA-256 must match the manifest
 * and every file the manifest lists must be there, and the database must
 * pass SQLite's integrity_check. Only then does a restore move what it
 * replaces into DATA_DIR/pre-restore-<time>/ and the unpacked files into
 * place, so the previous data is always one move away.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db_int.h"

#define BLOCK 512
#define MANIFEST_MAX (1u << 20)
#define ENTRIES_MAX 100000

struct entry {
	char name[DB_BACKUP_NAME_MAX];
	uint64_t size;
	char sha[65];
	bool listed; /* seen in the manifest */
};

struct reader {
	int fd;
	char *why;
	size_t cap;
	struct entry *v;
	size_t n, vcap;
	char *manifest;
	size_t mlen;
};

static int fail(struct reader *r, int err, const char *fmt, const char *arg)
{
	snprintf(r->why, r->cap, fmt, arg);
	return err;
}

/* Reads exactly n bytes; EINVAL ("ends early") at end of file. */
static int read_full(struct reader *r, void *p, size_t n)
{
	char *c = p;
	while (n) {
		ssize_t k = read(r->fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail(r, errno, "cannot read the archive: %s", strerror(errno));
		if (k == 0)
			return fail(r, EINVAL, "%s",
				    "the archive ends early (cut short, or not a Hookflash backup)");
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

static bool parse_octal(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	while (i < n && p[i] == ' ')
		i++;
	bool any = false;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return false;
		v = v * 8 + (uint64_t)(p[i] - '0');
		any = true;
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\0')
			return false;
	*out = v;
	return any;
}

/* Creates dir/name's parent folders (only the two levels a name has). */
static int make_parents(const char *dir, const char *name)
{
	char path[700];
	const char *s = name;
	while ((s = strchr(s, '/'))) {
		snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(s - name), name);
		if (mkdir(path, 0700) && errno != EEXIST)
			return errno;
		s++;
	}
	return 0;
}

/* One file's content into dir/name (or, for the manifest, memory). */
static int take_file(struct reader *r, const char *dir, const char *name, uint64_t size)
{
	bool is_manifest = !strcmp(name, DB_BACKUP_MANIFEST);
	int out = -1, err = 0;
	if (is_manifest) {
		if (r->manifest)
			return fail(r, EINVAL, "the archive holds %s twice", name);
		if (size > MANIFEST_MAX)
			return fail(r, EINVAL, "%s", "the archive's manifest is too big");
		r->manifest = malloc(size + 1);
		if (!r->manifest)
			return fail(r, ENOMEM, "%s", "out of memory");
		r->mlen = size;
	} else {
		if (r->n == ENTRIES_MAX)
			return fail(r, EINVAL, "%s", "the archive holds too many files");
		for (size_t i = 0; i < r->n; i++)
			if (!strcmp(r->v[i].name, name))
				return fail(r, EINVAL, "the archive holds %s twice", name);
		if (r->n == r->vcap) {
			size_t cap = r->vcap ? r->vcap * 2 : 32;
			struct entry *nv = realloc(r->v, cap * sizeof(*nv));
			if (!nv)
				return fail(r, ENOMEM, "%s", "out of memory");
			r->v = nv;
			r->vcap = cap;
		}
		char path[700];
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if ((err = make_parents(dir, name)))
			return fail(r, err, "cannot unpack the archive: %s", strerror(err));
		out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return fail(r, errno, "cannot unpack the archive: %s", strerror(errno));
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		err = fail(r, ENOMEM, "%s", "out of memory");
	uint64_t left = size, padded = (size + BLOCK - 1) / BLOCK * BLOCK;
	char buf[65536];
	uint64_t pos = 0;
	while (!err && pos < padded) {
		size_t want = padded - pos < sizeof(buf) ? (size_t)(padded - pos) : sizeof(buf);
		if ((err = read_full(r, buf, want)))
			break;
		size_t data = left < want ? (size_t)left : want;
		EVP_DigestUpdate(md, buf, data);
		if (is_manifest) {
			memcpy(r->manifest + pos, buf, data);
		} else {
			size_t off = 0;
			while (off < data) {
				ssize_t w = write(out, buf + off, data - off);
				if (w <= 0) {
					err = fail(r, w < 0 ? errno : EIO, "cannot unpack the archive: %s",
						   strerror(w < 0 ? errno : EIO));
					break;
				}
				off += (size_t)w;
			}
		}
		left -= data;
		pos += want;
	}
	unsigned char d[32];
	unsigned dl = 0;
	if (md)
		EVP_DigestFinal_ex(md, d, &dl);
	EVP_MD_CTX_free(md);
	if (out >= 0 && close(out) && !err)
		err = fail(r, errno, "cannot unpack the archive: %s", strerror(errno));
	if (err)
		return err;
	if (is_manifest) {
		r->manifest[size] = '\0';
	} else {
		struct entry *e = &r->v[r->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->size = size;
		db_hex(d, 32, e->sha);
	}
	return 0;
}

static int read_tar(struct reader *r, const char *dir)
{
	unsigned char h[BLOCK];
	for (;;) {
		int err = read_full(r, h, BLOCK);
		if (err)
			return err;
		bool zero = true;
		for (size_t i = 0; i < BLOCK && zero; i++)
			zero = h[i] == 0;
		if (zero)
			return 0; /* the end */
		uint64_t sum_want, size;
		unsigned sum = 0;
		for (size_t i = 0; i < BLOCK; i++)
			sum += (i >= 148 && i < 156) ? ' ' : h[i];
		if (!parse_octal((char *)h + 148, 8, &sum_want) || sum_want != sum)
			return fail(r, EINVAL, "%s",
				    "the archive is damaged or not a tar file (header checksum)");
		char name[101];
		memcpy(name, h, 100);
		name[100] = '\0';
		if (h[345] != '\0') /* a ustar prefix: a name longer than ours */
			return fail(r, EINVAL, "the archive holds a name that is not allowed: %.60s...",
				    (char *)h + 345);
		if (h[156] != '0' && h[156] != '\0')
			return fail(r, EINVAL,
				    "the archive holds %s, which is not a plain file (links, folders "
				    "and devices are refused)",
				    name);
		if (!db_backup_name_ok(name))
			return fail(r, EINVAL,
				    "the archive holds '%s': not a name a Hookflash backup has (refused: "
				    "nothing was changed)",
				    name);
		if (!parse_octal((char *)h + 124, 12, &size))
			return fail(r, EINVAL, "the archive is damaged (the size of %s)", name);
		if ((err = take_file(r, dir, name, size)))
			return err;
	}
}

/* Every file matches the manifest, and the manifest lists every file. */
static int check_manifest(struct reader *r, bool *vm, bool *prompts)
{
	if (!r->manifest)
		return fail(r, EINVAL, "%s", "the archive has no MANIFEST: not a Hookflash backup");
	if (strncmp(r->manifest, "hookflash-backup 1\n", 19))
		return fail(r, EINVAL, "%s", "the archive's MANIFEST is not of a Hookflash backup");
	*vm = strstr(r->manifest, "\nvoicemail yes\n") != NULL;
	*prompts = strstr(r->manifest, "\nprompts yes\n") != NULL;
	char *save = NULL;
	for (char *l = strtok_r(r->manifest, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "file ", 5))
			continue;
		char name[DB_BACKUP_NAME_MAX + 1], sha[80];
		unsigned long long size;
		if (sscanf(l + 5, "%100s %llu %79s", name, &size, sha) != 3)
			return fail(r, EINVAL, "%s", "the archive's MANIFEST is damaged");
		struct entry *e = NULL;
		for (size_t i = 0; i < r->n && !e; i++)
			if (!strcmp(r->v[i].name, name))
				e = &r->v[i];
		if (!e)
			return fail(r, EINVAL, "the archive lacks %s, which its MANIFEST lists", name);
		if (e->size != size || strlen(sha) != 64 || CRYPTO_memcmp(e->sha, sha, 64))
			return fail(r, EINVAL,
				    "%s in the archive does not match its MANIFEST (damaged archive)",
				    name);
		e->listed = true;
	}
	for (size_t i = 0; i < r->n; i++)
		if (!r->v[i].listed)
			return fail(r, EINVAL, "%s in the archive is not in its MANIFEST", r->v[i].name);
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].name, "hookflash.db"))
			return 0;
	return fail(r, EINVAL, "%s", "the archive holds no database (hookflash.db)");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Removes dir, a folder of our own making (regular files and folders
 * only: links are never unpacked), with whatever is in it; best effort. */
static void remove_unpacked(const char *dir, const struct reader *r)
{
	(void)r;
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Unpacks and checks archive into dir (which must not exist). On
 * success r lists the files and *vm / *prompts say what the archive
 * carries; on failure dir is gone. */
static int unpack(struct reader *r, const char *archive, const char *dir, bool *vm, bool *prompts)
{
	r->fd = open(archive, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return fail(r, errno, "cannot open the archive: %s", strerror(errno));
	if (mkdir(dir, 0700)) {
		int e = errno;
		close(r->fd);
		return fail(r, e, "cannot unpack the archive: %s", strerror(e));
	}
	int err = read_tar(r, dir);
	close(r->fd);
	if (!err)
		err = check_manifest(r, vm, prompts);
	if (!err) {
		char db[700];
		snprintf(db, sizeof(db), "%s/hookflash.db", dir);
		err = db_backup_check(db, r->why, r->cap);
	}
	if (err)
		remove_unpacked(dir, r);
	return err;
}

static void reader_free(struct reader *r)
{
	free(r->v);
	free(r->manifest);
}

int db_backup_verify(const char *archive, const char *data_dir, char *why, size_t cap)
{
	struct reader r = { .why = why, .cap = cap };
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/.verify-%ld-%ld", data_dir, (long)getpid(), (long)time(NULL));
	bool vm, pr;
	int err = unpack(&r, archive, dir, &vm, &pr);
	if (!err)
		remove_unpacked(dir, &r);
	reader_free(&r);
	return err;
}

/* Run as root (sudo hookflash restore), what was put in place belongs to
 * the data directory's owner, or the daemon (its service user) could not
 * open it; the same rule as db.c's new database file. */
static void give_to_owner(const char *data_dir, const char *name)
{
	struct stat st;
	if (geteuid() != 0 || stat(data_dir, &st) || st.st_uid == 0)
		return;
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	for (char *s = path + strlen(data_dir) + 1;; s++) {
		bool end = !*s;
		if (*s == '/' || end) {
			char c = *s;
			*s = '\0';
			if (lchown(path, st.st_uid, st.st_gid)) {
				/* not fatal: root can still use it, and the message
				 * of the daemon that cannot would name the file */
			}
			*s = c;
		}
		if (end)
			break;
	}
}

/* Moves data_dir/name into kept/name when it exists. */
static int move_aside(const char *data_dir, const char *kept, const char *name)
{
	char from[700], to[700];
	snprintf(from, sizeof(from), "%s/%s", data_dir, name);
	if (access(from, F_OK))
		return 0;
	snprintf(to, sizeof(to), "%s/%s", kept, name);
	if (make_parents(kept, name) || rename(from, to))
		return errno ? errno : EIO;
	return 0;
}

int db_backup_restore(const char *archive, const char *data_dir, char *kept, size_t kcap,
		      char *why, size_t cap)
{
	struct reader r = { .why = why, .cap = cap };
	char stage[600];
	time_t now = time(NULL);
	snprintf(stage, sizeof(stage), "%s/.restore-%ld-%ld", data_dir, (long)getpid(), (long)now);
	bool vm = false, pr = false;
	int err = unpack(&r, archive, stage, &vm, &pr);
	if (err) {
		reader_free(&r);
		return err;
	}
	/* what the restore replaces goes aside first, all of it */
	struct tm tm;
	char stamp[32];
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(kept, kcap, "%s/pre-restore-%s", data_dir, stamp);
	for (int i = 2; mkdir(kept, 0700); i++) {
		if (errno != EEXIST || i > 99) {
			err = errno;
			snprintf(why, cap, "cannot create %s: %s", kept, strerror(err));
			goto out;
		}
		snprintf(kept, kcap, "%s/pre-restore-%s-%d", data_dir, stamp, i);
	}
	give_to_owner(data_dir, kept + strlen(data_dir) + 1);
	/* the old database's WAL would be applied to the new one: it goes
	 * with it; the first start's credentials no longer hold either */
	static const char *const aside[] = { "hookflash.db",   "hookflash.db-wal",
					     "hookflash.db-shm", "hookflash.conf",
					     "web/cert.pem",   "web/key.pem",
					     "initial-credentials.txt" };
	for (size_t i = 0; !err && i < sizeof(aside) / sizeof(aside[0]); i++)
		err = move_aside(data_dir, kept, aside[i]);
	if (!err && vm)
		err = move_aside(data_dir, kept, "voicemail");
	if (!err && pr)
		err = move_aside(data_dir, kept, "sounds");
	if (err) {
		snprintf(why, cap,
			 "cannot move the current data aside into %s: %s (what was moved is there)",
			 kept, strerror(err));
		goto out;
	}
	for (size_t i = 0; !err && i < r.n; i++) {
		char from[700], to[700];
		snprintf(from, sizeof(from), "%s/%s", stage, r.v[i].name);
		snprintf(to, sizeof(to), "%s/%s", data_dir, r.v[i].name);
		if (make_parents(data_dir, r.v[i].name) || rename(from, to)) {
			err = errno ? errno : EIO;
			snprintf(why, cap, "cannot move %s into place: %s (the previous data is in %s)",
				 r.v[i].name, strerror(err), kept);
		} else {
			give_to_owner(data_dir, r.v[i].name);
		}
	}
out:
	remove_unpacked(stage, &r);
	reader_free(&r);
	return err;
}
