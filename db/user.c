/*
 * Web UI accounts and their password hashes. Unlike SIP passwords (which
 * digest authentication needs in clear), web passwords are only ever
 * checked, so only a slow salted hash is stored: PBKDF2-HMAC-SHA256,
 * 200000 iterations, 16 random bytes of salt, in a self-describing string
 * so the cost can be raised later without invalidating existing hashes.
 */
#include "db_int.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PW_PREFIX "pbkdf2-sha256$"
#define PW_ITER 200000
#define PW_SALT_LEN 16
#define PW_KEY_LEN 32
/* Bounds for hashes read back: a tampered iteration count must not turn
 * one login into minutes of CPU. */
#define PW_ITER_MIN 1000
#define PW_ITER_MAX 10000000
#define PW_BLOB_MAX 64

static int user_name_check(struct db *db, const char *username)
{
	size_t n = strnlen(username, DB_USER_NAME_MAX);
	/* ':' would break HTTP Basic credentials, spaces are trimmed by
	 * forms: neither belongs in a login name. */
	if (n == 0 || n == DB_USER_NAME_MAX || !db_text_clean(username, n) ||
	    strpbrk(username, " :")) {
		db_set_err(db, "user name: 1 to 63 characters, no spaces, ':' or control characters");
		return EINVAL;
	}
	return 0;
}

static bool hash_looks_valid(const char *h)
{
	return h && strncmp(h, PW_PREFIX, strlen(PW_PREFIX)) == 0 &&
	       strnlen(h, DB_PW_HASH_MAX) < DB_PW_HASH_MAX;
}

int db_user_add(struct db *db, const char *username, const char *pw_hash,
		const char *role)
{
	if (!db || !username || !role)
		return EINVAL;
	int err = user_name_check(db, username);
	if (err)
		return err;
	if (!hash_looks_valid(pw_hash)) {
		db_set_err(db, "password hash: not from db_password_hash()");
		return EINVAL;
	}
	if (strcmp(role, "admin") != 0 && strcmp(role, "user") != 0) {
		db_set_err(db, "role: admin or user");
		return EINVAL;
	}
	sqlite3_stmt *st;
	err = db_stmt(db,
		      "INSERT INTO users (username, pw_hash, role, created_at)"
		      " VALUES (?1, ?2, ?3, ?4)",
		      &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, username, DB_USER_NAME_MAX);
	err = err ? err : db_bind_str(st, 2, pw_hash, DB_PW_HASH_MAX);
	err = err ? err : db_bind_str(st, 3, role, 8);
	if (!err && sqlite3_bind_int64(st, 4, (int64_t)time(NULL)) != SQLITE_OK)
		err = EINVAL;
	if (!err)
		err = db_rc(db, sqlite3_step(st));
	db_stmt_done(db, st);
	return err;
}

int db_user_set_password(struct db *db, const char *username, const char *pw_hash)
{
	if (!db || !username)
		return EINVAL;
	if (!hash_looks_valid(pw_hash)) {
		db_set_err(db, "password hash: not from db_password_hash()");
		return EINVAL;
	}
	sqlite3_stmt *st;
	int err = db_stmt(db, "UPDATE users SET pw_hash = ?2 WHERE username = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, username, DB_USER_NAME_MAX);
	err = err ? err : db_bind_str(st, 2, pw_hash, DB_PW_HASH_MAX);
	return db_finish_change(db, st, err);
}

int db_user_get(struct db *db, const char *username, char *pw_hash, size_t hcap,
		char *role, size_t rcap)
{
	if (!db || !username)
		return EINVAL;
	sqlite3_stmt *st;
	int err = db_stmt(db, "SELECT pw_hash, role FROM users WHERE username = ?1", &st);
	if (err)
		return err;
	err = db_bind_str(st, 1, username, DB_USER_NAME_MAX);
	if (!err) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (pw_hash)
				db_col_str(st, 0, pw_hash, hcap);
			if (role)
				db_col_str(st, 1, role, rcap);
		} else {
			err = rc == SQLITE_DONE ? ENOENT : db_rc(db, rc);
		}
	}
	db_stmt_done(db, st);
	return err;
}

int db_password_hash(const char *password, char *out, size_t cap)
{
	return db_pbkdf2_hash(password, PW_ITER, out, cap);
}

int db_pbkdf2_hash(const char *password, int iter, char *out, size_t cap)
{
	if (!password || !*password || !out || iter < PW_ITER_MIN || iter > PW_ITER_MAX)
		return EINVAL;
	unsigned char salt[PW_SALT_LEN], key[PW_KEY_LEN];
	/* base64 of n bytes is 4*ceil(n/3) characters plus the NUL. */
	unsigned char salt64[4 * ((PW_SALT_LEN + 2) / 3) + 1];
	unsigned char key64[4 * ((PW_KEY_LEN + 2) / 3) + 1];
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return EIO;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt),
			      iter, EVP_sha256(), sizeof(key), key) != 1)
		return EIO;
	EVP_EncodeBlock(salt64, salt, sizeof(salt));
	EVP_EncodeBlock(key64, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	int n = snprintf(out, cap, PW_PREFIX "%d$%s$%s", iter, (char *)salt64,
			 (char *)key64);
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			out[0] = '\0';
		return ENOSPC;
	}
	return 0;
}

/* Decodes one padded base64 field of n characters into out (PW_BLOB_MAX);
 * returns the byte count or -1. EVP_DecodeBlock counts padding as zero
 * bytes, so the '=' are taken off by hand. */
static int b64_field(const char *s, size_t n, unsigned char *out)
{
	if (n == 0 || n % 4 || n / 4 * 3 > PW_BLOB_MAX)
		return -1;
	int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (len < 0)
		return -1;
	if (s[n - 1] == '=')
		len--;
	if (s[n - 2] == '=')
		len--;
	return len;
}

bool db_password_verify(const char *password, const char *encoded)
{
	if (!password || !encoded || !hash_looks_valid(encoded))
		return false;
	const char *p = encoded + strlen(PW_PREFIX);
	char *end;
	errno = 0;
	long iter = strtol(p, &end, 10);
	if (errno || end == p || *end != '$' || iter < PW_ITER_MIN || iter > PW_ITER_MAX)
		return false;
	const char *salt_s = end + 1;
	const char *dollar = strchr(salt_s, '$');
	if (!dollar)
		return false;
	const char *key_s = dollar + 1;

	unsigned char salt[PW_BLOB_MAX], want[PW_BLOB_MAX], got[PW_BLOB_MAX];
	int salt_len = b64_field(salt_s, (size_t)(dollar - salt_s), salt);
	int key_len = b64_field(key_s, strlen(key_s), want);
	if (salt_len < 8 || key_len < 16)
		return false;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len,
			      (int)iter, EVP_sha256(), key_len, got) != 1)
		return false;
	bool ok = CRYPTO_memcmp(got, want, (size_t)key_len) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}
