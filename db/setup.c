/*
 * First start: generated secrets and the default accounts. A fresh box
 * must work out of the box (five phones can register, an admin can log in)
 * without ever shipping a default password: every secret is generated
 * here from OpenSSL's CSPRNG and shown once to whoever ran the setup.
 */
#include "db_int.h"
#include "../core/base/pin.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* No 0/O, 1/l/I: these get read off a screen and typed into phones. */
static const char alphabet[] = "23456789"
			       "abcdefghijkmnopqrstuvwxyz"
			       "ABCDEFGHJKLMNPQRSTUVWXYZ";

#define DEFAULT_FIRST_EXT 1001
#define DEFAULT_EXT_COUNT 5
#define GENERATED_LEN 16 /* 57^16: about 93 bits */

int db_secret_generate(char *out, size_t cap, size_t n)
{
	if (!out || n == 0 || cap <= n)
		return EINVAL;
	const size_t k = sizeof(alphabet) - 1;
	/* Rejection sampling: only bytes below the largest multiple of k map
	 * to a character, so every character is equally likely. */
	const unsigned limit = 256 - 256 % k;
	unsigned char buf[64];
	size_t have = 0, used = 0;
	for (size_t i = 0; i < n;) {
		if (used == have) {
			if (RAND_bytes(buf, sizeof(buf)) != 1)
				return EIO;
			have = sizeof(buf);
			used = 0;
		}
		unsigned b = buf[used++];
		if (b < limit)
			out[i++] = alphabet[b % k];
	}
	out[n] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int count_rows(struct db *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int err = db_stmt(db, sql, &st);
	if (err)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		err = rc == SQLITE_DONE ? EIO : db_rc(db, rc);
	db_stmt_done(db, st);
	return err;
}

struct defaults {
	struct db_ext ext[DEFAULT_EXT_COUNT];
	char admin_pw[GENERATED_LEN + 1];
	char admin_hash[DB_PW_HASH_MAX];
};

static int generate(struct defaults *d)
{
	for (int i = 0; i < DEFAULT_EXT_COUNT; i++) {
		struct db_ext *e = &d->ext[i];
		snprintf(e->number, sizeof(e->number), "%d", DEFAULT_FIRST_EXT + i);
		snprintf(e->name, sizeof(e->name), "Extension %d", DEFAULT_FIRST_EXT + i);
		e->enabled = true;
		int err = db_secret_generate(e->password, sizeof(e->password), GENERATED_LEN);
		/* a voicemail PIN too, so the owner can listen from the phone at
		 * once (stored hashed by db_ext_add, shown once like the rest) */
		if (!err)
			err = pin_generate_for(e->vm_pin, sizeof(e->vm_pin), PIN_MIN_DEFAULT, e->number);
		if (err)
			return err;
	}
	int err = db_secret_generate(d->admin_pw, sizeof(d->admin_pw), GENERATED_LEN);
	return err ? err : db_password_hash(d->admin_pw, d->admin_hash, sizeof(d->admin_hash));
}

static int store(struct db *db, const struct defaults *d)
{
	int err = db_begin(db);
	if (err)
		return err;
	/* Checked inside the write transaction: two `hookflash init` at once
	 * cannot both set up. */
	int exts = 0, users = 0;
	if ((err = count_rows(db, "SELECT count(*) FROM extensions", &exts)) ||
	    (err = count_rows(db, "SELECT count(*) FROM users", &users)))
		goto out;
	if (exts || users) {
		err = EALREADY;
		goto out;
	}
	for (int i = 0; i < DEFAULT_EXT_COUNT; i++)
		if ((err = db_ext_add(db, &d->ext[i])))
			goto out;
	if ((err = db_user_add(db, "admin", d->admin_hash, "admin")) ||
	    (err = db_user_set_must_change(db, "admin", true))) /* a printed password */
		goto out;
	return db_commit(db);
out:
	db_rollback(db);
	return err;
}

int db_setup_defaults(struct db *db, db_cred_h *h, void *arg)
{
	if (!db)
		return EINVAL;
	/* Cheap check first so an already set-up box does not pay for a
	 * PBKDF2 hash; store() checks again under the lock. */
	int exts = 0, users = 0;
	int err = count_rows(db, "SELECT count(*) FROM extensions", &exts);
	err = err ? err : count_rows(db, "SELECT count(*) FROM users", &users);
	if (err)
		return err;
	if (exts || users)
		return EALREADY;

	struct defaults d;
	memset(&d, 0, sizeof(d));
	err = generate(&d);
	if (!err)
		err = store(db, &d);
	if (!err && h) {
		for (int i = 0; i < DEFAULT_EXT_COUNT; i++)
			h("extension", d.ext[i].number, d.ext[i].password, arg);
		for (int i = 0; i < DEFAULT_EXT_COUNT; i++)
			h("voicemail", d.ext[i].number, d.ext[i].vm_pin, arg);
		h("web", "admin", d.admin_pw, arg);
	}
	OPENSSL_cleanse(&d, sizeof(d));
	return err;
}
