/*
 * `hookflash init` and `hookflash admin reset-password`: the two moments a
 * password is generated for a person to read. They are printed once, on
 * stdout, and exist nowhere else in clear (web passwords are stored only
 * as hashes; SIP passwords are in the 0600 database because digest
 * authentication needs them).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../db/db.h"
#include "cli.h"
#include "table.h"

#define GENERATED_PW_LEN 16
#define MAX_CREDS 16

/* mkdir -p: intermediate directories like mkdir(1), the data directory
 * itself private to the PBX's user (and its group, for backups). */
static int make_dirs(const char *dir)
{
	char p[256];
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return errno;
		*s = '/';
	}
	if (mkdir(p, 0750) != 0 && errno != EEXIST)
		return errno;
	return 0;
}

struct creds {
	size_t n;
	char what[MAX_CREDS][16];
	char user[MAX_CREDS][DB_USER_NAME_MAX];
	char secret[MAX_CREDS][DB_SECRET_MAX];
};

static void on_cred(const char *what, const char *user, const char *secret, void *arg)
{
	struct creds *c = arg;
	if (c->n == MAX_CREDS)
		return;
	snprintf(c->what[c->n], sizeof(c->what[0]), "%s",
		 strcmp(what, "web") == 0 ? "web admin" : what);
	snprintf(c->user[c->n], sizeof(c->user[0]), "%s", user);
	snprintf(c->secret[c->n], sizeof(c->secret[0]), "%s", secret);
	c->n++;
}

/* `hookflash init` as root in a data directory that belongs to the
 * service user (make install's /var/lib/hookflash): the new database is
 * the user's too, or hookflashd, which runs as that user, could not
 * write it. */
static void give_db_to_dir_owner(const struct cli *c)
{
	struct stat dir, db;
	if (geteuid() != 0 || stat(c->data_dir, &dir) != 0 || dir.st_uid == 0 ||
	    stat(c->db_path, &db) != 0 || db.st_uid != 0)
		return;
	if (chown(c->db_path, dir.st_uid, dir.st_gid) != 0)
		cli_warn("cannot give %s to the owner of %s: %s", c->db_path, c->data_dir,
			 strerror(errno));
}

int cli_cmd_init(struct cli *c, int argc, char **argv)
{
	int rc = cli_parse(argc, argv, NULL, NULL, 0, 0, NULL, "init");
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	int err = make_dirs(c->data_dir);
	if (err)
		return cli_fail("cannot create data directory %s: %s", c->data_dir, strerror(err));
	struct db *db;
	if ((rc = cli_db_open(c, &db, true)))
		return rc;
	struct creds cr;
	memset(&cr, 0, sizeof(cr));
	err = db_setup_defaults(db, on_cred, &cr);
	if (err && err != EALREADY)
		rc = cli_fail("cannot set up %s: %s", c->db_path, db_errmsg(db));
	db_close(db);
	give_db_to_dir_owner(c);
	if (rc)
		return rc;
	if (err == EALREADY) {
		printf("hookflash is already set up (%s); nothing changed\n", c->db_path);
		return CLI_OK;
	}

	printf("Set up the Hookflash database at %s.\n"
	       "These passwords are shown only now; note them down.\n\n",
	       c->db_path);
	const char *cells[MAX_CREDS * 3];
	for (size_t i = 0; i < cr.n; i++) {
		cells[i * 3] = cr.what[i];
		cells[i * 3 + 1] = cr.user[i];
		cells[i * 3 + 2] = cr.secret[i];
	}
	static const char *const head[] = { "ACCOUNT", "USER", "PASSWORD" };
	table_print(stdout, 3, head, NULL, cells, cr.n);
	printf("\nPhones register with their extension number as SIP user.\n"
	       "Sign in to the web UI as admin. Lost it? "
	       "'hookflash admin reset-password'.\n");
	fflush(stdout);
	OPENSSL_cleanse(&cr, sizeof(cr));
	cli_notify_reload(c);
	return CLI_OK;
}

#define U_RESET "admin reset-password [USER]"

static int reset_password(struct cli *c, int argc, char **argv)
{
	const char *pos[1] = { "admin" };
	int rc = cli_parse(argc, argv, NULL, pos, 0, 1, NULL, U_RESET);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	const char *user = pos[0];
	struct db *db;
	if ((rc = cli_db_open(c, &db, false)))
		return rc;
	char pw[GENERATED_PW_LEN + 1], hash[DB_PW_HASH_MAX];
	int err = db_user_get(db, user, NULL, 0, NULL, 0);
	if (err == ENOENT)
		rc = cli_fail("no web user '%s'", user);
	else if (err)
		rc = cli_fail("cannot read web user '%s': %s", user, db_errmsg(db));
	else if (db_secret_generate(pw, sizeof(pw), GENERATED_PW_LEN) ||
		 db_password_hash(pw, hash, sizeof(hash)))
		rc = cli_fail("cannot generate a password");
	else if ((err = db_user_set_password(db, user, hash)))
		rc = cli_fail("cannot set the password of '%s': %s", user, db_errmsg(db));
	/* like the first start's: the generated password opens only the
	 * "choose your password" page, so it never stays in use */
	else if ((err = db_user_set_must_change(db, user, true)))
		rc = cli_fail("cannot set the password of '%s': %s", user, db_errmsg(db));
	db_close(db);
	if (!rc) {
		printf("new web password for %s: %s\n", user, pw);
		printf("(shown only now; the first sign-in with it asks for a new one)\n");
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	return rc;
}

int cli_cmd_admin(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "reset-password") == 0)
		return reset_password(c, argc - 1, argv + 1);
	if (argc >= 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
		printf("usage: hookflash " U_RESET "\n");
		return CLI_OK;
	}
	if (argc < 1)
		return cli_usage(U_RESET, "admin: which action?");
	return cli_usage(U_RESET, "unknown admin action '%s'", argv[0]);
}
