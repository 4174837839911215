/*
 * `hookflash`, the administrator's command-line tool. It edits the
 * database (DATA_DIR/hookflash.db) itself, so setup and extensions work
 * with no daemon running, and asks a running hookflashd over its control
 * socket (DATA_DIR/hookflash.ctl) for live state. Global options come
 * before the command; each command parses its own. Exit status: 0 done,
 * 1 error, 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../db/db.h"
#include "../base/codec_names.h"
#include "../ctl/ctl_proto.h"
#include "cli.h"

#ifndef HF_VERSION
#define HF_VERSION "dev"
#endif

#define DEFAULT_DATA_DIR "/var/lib/hookflash"
#define RUN_DATA_DIR "run-data" /* what `make run` uses, in the checkout */
#define DATA_DIR_ENV "HOOKFLASH_DATA_DIR"

/* printf format: %s is the codec names (core/base/codec_names.h) */
static const char help_fmt[] =
	"Usage: hookflash [--data-dir DIR] COMMAND [ARGS]\n"
	"\n"
	"Administers a Hookflash PBX. Setup and extension commands edit the\n"
	"database directly and work whether or not hookflashd is running; the\n"
	"commands under \"Running daemon\" ask hookflashd over its control socket.\n"
	"\n"
	"Global options (before COMMAND):\n"
	"  --data-dir DIR    data directory holding hookflash.db and hookflash.ctl\n"
	"                    (default: $" DATA_DIR_ENV " if set, else ./" RUN_DATA_DIR "\n"
	"                    when a daemon started by `make run` there has its\n"
	"                    socket in it, else " DEFAULT_DATA_DIR ")\n"
	"  -h, --help        show this help\n"
	"  --version         show the version\n"
	"\n"
	"Setup:\n"
	"  init              create the database with extensions 1001-1005 and the\n"
	"                    web account admin, and print their generated passwords\n"
	"                    (once); on a database already set up, change nothing\n"
	"  admin reset-password [USER]\n"
	"                    give web user USER (default admin) a new generated\n"
	"                    password and print it (once)\n"
	"\n"
	"Extensions:\n"
	"  extension add NUMBER [--name NAME] [--password PW] [--pin PIN] [--disabled]\n"
	"                [--contact URI] [--trust CIDR[,CIDR...]] [--max-calls N]\n"
	"                [--codecs C[,C...]] [--srtp off|optional|required]\n"
	"                [call handling options, below]\n"
	"                    add an extension (NUMBER: 2-15 digits); without\n"
	"                    --password a strong one is generated and printed\n"
	"                    (show --show-password shows it again)\n"
	"  extension list    number, name, state, options (contact, trust,\n"
	"                    max-calls, codecs, srtp) and FWD/DND of every extension\n"
	"  extension show NUMBER [--show-password]\n"
	"                    one extension; the SIP password only with\n"
	"                    --show-password (the voicemail PIN is stored hashed:\n"
	"                    only whether one is set)\n"
	"  extension set NUMBER [--name NAME] [--password PW | --new-password]\n"
	"                [--pin PIN] [--enable | --disable]\n"
	"                [--contact URI | --no-contact]\n"
	"                [--trust CIDR[,CIDR...] | --no-trust] [--max-calls N]\n"
	"                [--codecs C[,C...] | --default-codecs] [--srtp off|optional|required]\n"
	"                [call handling options, below]\n"
	"                    change an extension; --new-password generates one and\n"
	"                    prints it (the phone stops registering until it has it)\n"
	"  extension remove NUMBER\n"
	"                    delete an extension and its registrations\n"
	"\n"
	"  Passwords need 8+ printable ASCII characters without spaces. Voicemail\n"
	"  PINs need 6+ digits ([voicemail] pin_min_length), not one digit\n"
	"  repeated, a run (123456, 987654, 890123), a short pattern repeated\n"
	"  (121212) or the extension's number; add without --pin generates one and\n"
	"  prints it once (PINs are stored hashed). --password - reads the password\n"
	"  from standard input, keeping it out of shell history and the process list.\n"
	"  After add, set or remove a running hookflashd is told to reload, so the\n"
	"  change is live at once.\n"
	"\n"
	"  For devices that do not register (door phones, paging amplifiers,\n"
	"  gateways, load generators):\n"
	"  --contact URI     a static sip: or sips: URI calls to the extension are\n"
	"                    sent to (e.g. sip:192.0.2.10:5060)\n"
	"  --trust CIDR,...  requests from these IPv4/IPv6 addresses or networks\n"
	"                    (e.g. 192.0.2.10/32,2001:db8::/64) are this extension\n"
	"                    without digest authentication, for calls to internal\n"
	"                    numbers only (extensions, voicemail, apps: never a\n"
	"                    trunk, as UDP sources can be forged) and message\n"
	"                    waiting; REGISTER always needs the password, which it\n"
	"                    keeps\n"
	"  --max-calls N     concurrent calls, 0-1000 (0: the default, 4)\n"
	"  --no-contact, --no-trust   remove the contact or the trust (set only)\n"
	"\n"
	"  Media policy:\n"
	"  --codecs C,...    codecs allowed on the extension's calls, preferred first,\n"
	"                    of %s (default: the [calls] codecs\n"
	"                    setting; --default-codecs goes back to it)\n"
	"  --srtp MODE       off, optional (the default: SRTP when the phone offers\n"
	"                    it) or required (SRTP or no call)\n"
	"\n"
	"  Call handling (add and set; shown by show, FWD/DND in list):\n"
	"  --ring-time S     seconds its phones ring, 5-300 (0: the default, 25)\n"
	"  --no-answer DEST, --busy DEST, --unavailable DEST\n"
	"                    where a call goes when nobody answers, the extension\n"
	"                    is busy, or no phone of it is registered: kind:id\n"
	"                    (ext:1002, vm:1001) or hangup; '' for the default,\n"
	"                    the extension's voicemail\n"
	"  --forward N, --forward-busy N, --forward-no-answer N\n"
	"                    forward calls (always, when busy, when not answered)\n"
	"                    to the number N (0-9 * # +; not the extension itself);\n"
	"                    '' turns one off, --no-forward all three\n"
	"  --dnd on|off      do not disturb\n"
	"\n"
	"Numbering plan (read from the database; no daemon needed):\n"
	"  number list, numbers\n"
	"                    every dialable number (extensions, feature codes such\n"
	"                    as *43 echo test): number, destination, owner. One\n"
	"                    namespace: an extension cannot take a number in use\n"
	"\n"
	"Voicemail (the database; no daemon needed):\n"
	"  voicemail list [NUMBER]\n"
	"                    mailboxes: number, new and old messages, locked until\n"
	"                    (after too many wrong PINs), e-mail, enabled, PIN set\n"
	"  voicemail show NUMBER\n"
	"                    one mailbox's messages: id, folder, caller, received,\n"
	"                    duration\n"
	"  voicemail unlock NUMBER\n"
	"                    lift the lock wrong PINs put on a mailbox\n"
	"  voicemail set NUMBER [--email ADDR] [--email-delete on|off]\n"
	"                [--max-messages N] [--max-seconds N] [--enabled on|off]\n"
	"                    e-mail new messages to ADDR ('' for none), and delete\n"
	"                    them once sent; quotas (0: 100 messages, 3600 s)\n"
	"  The PIN is set with 'extension set NUMBER --pin PIN'.\n"
	"\n"
	"Call records (read from the database; no daemon needed):\n"
	"  cdr [--from YYYY-MM-DD[THH:MM]] [--to YYYY-MM-DD[THH:MM]] [--number N]\n"
	"      [--disposition D] [--limit N] [--csv]\n"
	"                    recent calls, newest first: id, start, caller, callee,\n"
	"                    disposition, duration, billed seconds, who hung up and\n"
	"                    why, codec, path (the destinations the call went\n"
	"                    through: app:ivr > ext:1003). Times are local; --from\n"
	"                    and --to include their whole day or minute. --number\n"
	"                    matches caller or callee; D is answered, voicemail, no-answer,\n"
	"                    busy, failed or cancelled; --limit defaults to 100;\n"
	"                    --csv prints every column (media statistics too) as\n"
	"                    RFC 4180 CSV\n"
	"\n"
	"Running daemon:\n"
	"  status            version, uptime and counters\n"
	"  registrations     live registrations: extension, contact, source,\n"
	"                    expiry, user agent\n"
	"  bans              addresses banned after failed authentication, and\n"
	"                    users refused from an address that has working\n"
	"                    phones (SCOPE user), with the user who failed\n"
	"  unban ADDRESS     lift the bans on ADDRESS (its users' too)\n"
	"  reload            reload the configuration from the database\n"
	"  trace on|off      log every SIP message sent and received, or stop\n"
	"  log-level LEVEL   set the log level: error, warn, info or debug\n"
	"  calls, show calls calls in progress: id, caller, callee, state (ringing,\n"
	"                    answered, hold), duration, codec, DTMF digits seen\n"
	"  hangup CALL_ID    end a call in progress (CALL_ID from 'calls')\n"
	"  email test ADDRESS [--attach FILE]\n"
	"                    send a test e-mail through the [email] settings\n"
	"                    (once, no retries) and print what the SMTP server\n"
	"                    said; FILE (read by hookflashd) is attached\n"
	"  mwi notify N      re-send the message-waiting lamp state of mailbox N\n"
	"                    to the phones subscribed to it\n"
	"\n"
	"Backup:\n"
	"  backup [--output FILE] [--with-voicemail] [--with-prompts]\n"
	"                    write one file (tar) with the database (copied\n"
	"                    consistently while hookflashd runs), hookflash.conf,\n"
	"                    the web certificate and key, optionally voicemail\n"
	"                    and prompts\n"
	"  restore FILE [--check]\n"
	"                    with hookflashd stopped: check FILE and put it in\n"
	"                    place; the previous data goes to DATA_DIR/pre-restore-TIME/\n"
	"                    (--check: only check it)\n"
	"\n"
	"Exit status: 0 success, 1 error, 2 usage error.\n";

static void print_help(void)
{
	char names[96];
	codec_names_join(names, sizeof(names), ", ");
	printf(help_fmt, names);
}

static const struct {
	const char *name;
	cli_cmd_h *run;
} cmds[] = {
	{ "init", cli_cmd_init },
	{ "extension", cli_cmd_extension },
	{ "admin", cli_cmd_admin },
	{ "status", cli_cmd_status },
	{ "registrations", cli_cmd_registrations },
	{ "bans", cli_cmd_bans },
	{ "unban", cli_cmd_unban },
	{ "reload", cli_cmd_reload },
	{ "trace", cli_cmd_trace },
	{ "log-level", cli_cmd_log_level },
	{ "calls", cli_cmd_calls },
	{ "show", cli_cmd_show },
	{ "hangup", cli_cmd_hangup },
	{ "email", cli_cmd_email },
	{ "mwi", cli_cmd_mwi },
	{ "cdr", cli_cmd_cdr },
	{ "number", cli_cmd_number },
	{ "numbers", cli_cmd_numbers },
	{ "voicemail", cli_cmd_voicemail },
	{ "backup", cli_cmd_backup }, { "restore", cli_cmd_restore },
};

static int set_data_dir(struct cli *c, const char *dir)
{
	if (!*dir)
		return cli_usage(NULL, "--data-dir: empty path");
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--; /* "/var/lib/hookflash/" is the same directory */
	if (n >= sizeof(c->data_dir))
		return cli_fail("--data-dir: path too long");
	memcpy(c->data_dir, dir, n);
	c->data_dir[n] = '\0';
	const char *sep = strcmp(c->data_dir, "/") == 0 ? "" : "/";
	snprintf(c->db_path, sizeof(c->db_path), "%s%s%s", c->data_dir, sep, DB_FILE_NAME);
	snprintf(c->ctl_path, sizeof(c->ctl_path), "%s%s%s", c->data_dir, sep, CTL_SOCKET_NAME);
	return CLI_OK;
}

/* Without --data-dir: the environment's, else the daemon `make run`
 * started from this directory (its socket in ./run-data), else the
 * installed one's, so `hookflash status` finds the daemon the
 * administrator just started either way. */
static int default_data_dir(struct cli *c)
{
	const char *env = getenv(DATA_DIR_ENV);
	if (env && *env)
		return set_data_dir(c, env);
	struct stat st;
	char cwd[200], dir[256];
	if (stat(RUN_DATA_DIR "/" CTL_SOCKET_NAME, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    getcwd(cwd, sizeof(cwd))) {
		snprintf(dir, sizeof(dir), "%s/%s", strcmp(cwd, "/") ? cwd : "", RUN_DATA_DIR);
		return set_data_dir(c, dir);
	}
	return set_data_dir(c, DEFAULT_DATA_DIR);
}

int main(int argc, char **argv)
{
	struct cli c;
	memset(&c, 0, sizeof(c));
	bool dir_given = false;

	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		int rc;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_help();
			return CLI_OK;
		} else if (strcmp(a, "--version") == 0) {
			printf("hookflash %s\n", HF_VERSION);
			return CLI_OK;
		} else if (strcmp(a, "--data-dir") == 0) {
			if (i + 1 == argc)
				return cli_usage(NULL, "--data-dir needs a directory");
			if ((rc = set_data_dir(&c, argv[++i])))
				return rc;
			dir_given = true;
		} else if (strncmp(a, "--data-dir=", 11) == 0) {
			if ((rc = set_data_dir(&c, a + 11)))
				return rc;
			dir_given = true;
		} else {
			return cli_usage(NULL, "unknown option '%s' (global options go before "
					       "the command)",
					 a);
		}
	}
	int rc;
	if (!dir_given && (rc = default_data_dir(&c)))
		return rc;
	if (i == argc)
		return cli_usage(NULL, "no command given");
	if (strcmp(argv[i], "help") == 0) {
		print_help();
		return CLI_OK;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcmp(argv[i], cmds[k].name) == 0)
			return cmds[k].run(&c, argc - i - 1, argv + i + 1);
	return cli_usage(NULL, "unknown command '%s'", argv[i]);
}
