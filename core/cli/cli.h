/*
 * Private to the `hookflash` command-line tool: what its command files
 * share (where the data lives, how to fail, how to parse a command's
 * options, how to tell a running daemon to reload). Each command is a
 * function taking the words after its name; see main.c for the table.
 */
#ifndef HF_CLI_H
#define HF_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct db;

/* Exit statuses. */
enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

struct cli {
	char data_dir[256];
	char db_path[320];
	char ctl_path[320];
};

typedef int(cli_cmd_h)(struct cli *c, int argc, char **argv);

/* Prints "hookflash: <message>" on stderr; returns CLI_ERR. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "hookflash: <message>" and the command's usage line on stderr;
 * returns CLI_USAGE. */
int cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One option of a command: "--name VALUE", "--name=VALUE" or a flag. */
struct cli_opt {
	const char *name;  /* without the dashes */
	bool has_value;
	const char **value; /* set when has_value */
	bool *flag;         /* set when !has_value */
};

/* Parses argv (the words after the command): options anywhere, "--" ends
 * them, the rest are positional (at most maxpos, at least minpos, stored
 * in pos[]). Returns CLI_OK, or CLI_USAGE after printing why. -h/--help
 * prints the usage on stdout and returns -1 (the caller exits 0). */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, const char **pos,
	      int minpos, int maxpos, int *npos, const char *usage);

/* Opens the database. Unless create is set, a missing file is an error
 * that points at `hookflash init` rather than silently making an empty
 * database. Prints the reason and returns CLI_ERR on failure. */
int cli_db_open(struct cli *c, struct db **out, bool create);

/* A command made of actions ("extension add", "voicemail set"): runs the
 * action argv[0] names with the rest of argv; -h or --help runs help
 * (which prints the actions' usage); no action, or an unknown one, is a
 * usage error saying so (unknown_fmt gets the word given). */
struct cli_sub {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
};
int cli_subcommand(struct cli *c, int argc, char **argv, const struct cli_sub *subs, size_t n,
		   const char *usage, const char *missing, const char *unknown_fmt,
		   void (*help)(void));

/* After a change to the database: if a daemon is running, asks it to
 * reload so the change applies now. Silent when none runs; a warning (not
 * an error: the change is saved) when it does not answer. */
void cli_notify_reload(struct cli *c);

/* Reads a password for "--password -": one line from standard input,
 * without echo when it is a terminal. */
int cli_read_password(char *out, size_t cap);

/* Human duration: "42s", "5m 03s", "2h 05m", "3d 04h". */
void cli_duration(char *out, size_t cap, unsigned long long s);

/* Commands (cmd_*.c). */
int cli_cmd_init(struct cli *c, int argc, char **argv);
int cli_cmd_admin(struct cli *c, int argc, char **argv);
int cli_cmd_extension(struct cli *c, int argc, char **argv);
int cli_cmd_status(struct cli *c, int argc, char **argv);
int cli_cmd_registrations(struct cli *c, int argc, char **argv);
int cli_cmd_bans(struct cli *c, int argc, char **argv);
int cli_cmd_unban(struct cli *c, int argc, char **argv);
int cli_cmd_reload(struct cli *c, int argc, char **argv);
int cli_cmd_trace(struct cli *c, int argc, char **argv);
int cli_cmd_log_level(struct cli *c, int argc, char **argv);
int cli_cmd_calls(struct cli *c, int argc, char **argv);
int cli_cmd_show(struct cli *c, int argc, char **argv);
int cli_cmd_hangup(struct cli *c, int argc, char **argv);
int cli_cmd_email(struct cli *c, int argc, char **argv);
int cli_cmd_mwi(struct cli *c, int argc, char **argv);
int cli_cmd_cdr(struct cli *c, int argc, char **argv);
int cli_cmd_number(struct cli *c, int argc, char **argv);
int cli_cmd_numbers(struct cli *c, int argc, char **argv);
int cli_cmd_voicemail(struct cli *c, int argc, char **argv);
int cli_cmd_backup(struct cli *c, int argc, char **argv);
int cli_cmd_restore(struct cli *c, int argc, char **argv);

/* Sets db's voicemail PIN rules from the settings (cmd_vm.c): [voicemail]
 * of DATA_DIR/hookflash.conf, then the values the web saved. cli_db_open
 * calls it on every connection it opens. */
void cli_vm_policy(struct cli *c, struct db *db);

#endif
