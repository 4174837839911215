/*
 * hookflashd: reads its settings, takes the data directory's lock (one
 * daemon per data directory), becomes its service user when started as
 * root (core/main_priv.c), makes sure the data directory and its database
 * exist, starts the PBX, and runs the signalling loop until SIGTERM/SIGINT.
 * A fresh database gets a usable default setup whose generated credentials
 * go to DATA_DIR/initial-credentials.txt (0600) and, on a terminal, are the
 * last thing printed once every service is up, so log lines cannot push
 * them off the screen. They never go to the log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../db/db.h"
#include "base/conf.h"
#include "base/log.h"
#include "main_priv.h"
#include "pbx/pbx.h"

#define CREDS_FILE "initial-credentials.txt"
#define MAX_URLS 8

/* Credentials arrive one by one after the setup commits. */
struct creds {
	char lines[16][200];
	int n;
};

static void collect_cred(const char *what, const char *user, const char *secret, void *arg)
{
	struct creds *c = arg;
	if (c->n < 16)
		snprintf(c->lines[c->n++], sizeof(c->lines[0]), "  %-10s %-8s %s", what, user, secret);
}

static void add_url(char urls[][80], int *n, const char *host, bool v6, unsigned port)
{
	char u[80];
	snprintf(u, sizeof(u), v6 ? "https://[%s]:%u/" : "https://%s:%u/", host, port);
	for (int i = 0; i < *n; i++)
		if (!strcmp(urls[i], u))
			return;
	if (*n < MAX_URLS)
		snprintf(urls[(*n)++], sizeof(urls[0]), "%s", u);
}

/* Where a browser reaches the web UI: the bind addresses when set, else
 * every address of the box that is not loopback or link-local, then
 * 127.0.0.1 (for a browser on the box itself, or an SSH tunnel). */
static int web_urls(const struct conf *c, char urls[][80])
{
	int n = 0;
	bool any = c->nbinds == 0;
	for (int i = 0; i < c->nbinds; i++) {
		const char *b = c->binds[i];
		if (!strcmp(b, "0.0.0.0") || !strcmp(b, "::"))
			any = true;
		else
			add_url(urls, &n, b, strchr(b, ':') != NULL, c->https_port);
	}
	struct ifaddrs *ifs = NULL;
	if (any && getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
				continue;
			char host[INET6_ADDRSTRLEN];
			if (i->ifa_addr->sa_family == AF_INET) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, host,
					  sizeof(host));
				add_url(urls, &n, host, false, c->https_port);
			} else if (i->ifa_addr->sa_family == AF_INET6) {
				const struct in6_addr *a =
					&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
				if (IN6_IS_ADDR_LINKLOCAL(a))
					continue; /* needs a %zone no browser takes */
				inet_ntop(AF_INET6, a, host, sizeof(host));
				add_url(urls, &n, host, true, c->https_port);
			}
		}
		freeifaddrs(ifs);
	}
	if (c->external_addr[0])
		add_url(urls, &n, c->external_addr, strchr(c->external_addr, ':') != NULL,
			c->https_port);
	if (any)
		add_url(urls, &n, "127.0.0.1", false, c->https_port);
	return n;
}

/* The credentials, with where to use them. */
static void print_creds(FILE *out, const struct conf *c, const struct creds *cr,
			char urls[][80], int nurls)
{
	fprintf(out, "New Hookflash setup in %s. Generated credentials:\n\n", c->data_dir);
	for (int i = 0; i < cr->n; i++)
		fprintf(out, "%s\n", cr->lines[i]);
	fprintf(out, "\nWeb administration: sign in as admin at\n");
	for (int i = 0; i < nurls; i++)
		fprintf(out, "  %s\n", urls[i]);
	fprintf(out, "SIP phones: user = extension number, password as above, server port %u.\n"
		     "Voicemail: dial *97 from the extension's phone and key its PIN above, then #.\n"
		     "Lost the admin password? hookflash --data-dir %s admin reset-password\n",
		c->sip_udp_port, c->data_dir);
}

/* Always to the file (under a service manager it is the only place:
 * stdout is the journal, and secrets are never logged); readable by the
 * PBX's user and root only. */
static void write_creds(const struct conf *c, const struct creds *cr, char urls[][80], int nurls)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/" CREDS_FILE, c->data_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		log_err("main", "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	fchmod(fd, 0600); /* an older file may have had another mode */
	print_creds(out, c, cr, urls, nurls);
	fclose(out);
	log_warn("main", "new setup: the generated credentials are in %s (note them, then "
		 "delete the file)", path);
}

/* Creates the database on first start (*cr gets the credentials, *fresh
 * says so), and lays the settings saved from the web UI over the file's
 * and the flags'. */
static int prepare_data_dir(struct conf *c, struct creds *cr, bool *fresh)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/hookflash.db", c->data_dir);
	struct db *db;
	int err = db_open(&db, path);
	if (err) {
		log_err("main", "cannot open database %s: %s", path, strerror(err));
		return err;
	}
	err = db_setup_defaults(db, collect_cred, cr);
	*fresh = err == 0;
	if (err == 0 || err == EALREADY)
		pbx_conf_apply_saved(c, db); /* a bad set is logged and skipped */
	db_close(db);
	return err == EALREADY ? 0 : err;
}

/* Start-up failed on an address in use: say which port and which setting
 * moves it, rather than a bare "Address already in use". The PBX is gone
 * by now, so the port still taken is the one someone else holds. */
static void explain_in_use(const struct conf *c)
{
	static const struct {
		int type;
		const char *what, *setting;
	} ports[] = {
		{ SOCK_STREAM, "web (HTTPS)", "[http] https_port in hookflash.conf, or --https-port" },
		{ SOCK_STREAM, "web (HTTP)", "[http] port in hookflash.conf, or --http-port" },
		{ SOCK_DGRAM, "SIP (UDP)", "[sip] udp_port in hookflash.conf, or --sip-port" },
		{ SOCK_STREAM, "SIP (TCP)", "[sip] tcp_port in hookflash.conf, or --sip-tcp-port" },
	};
	const uint16_t num[] = { c->https_port, c->http_port, c->sip_udp_port, c->sip_tcp_port };
	const char *addr = c->nbinds ? c->binds[0] : "::";
	bool v6 = strchr(addr, ':') != NULL;
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int fd = socket(v6 ? AF_INET6 : AF_INET, ports[i].type | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		struct sockaddr_storage ss = { 0 };
		socklen_t len;
		if (v6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(num[i]);
			inet_pton(AF_INET6, addr, &s6->sin6_addr);
			len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(num[i]);
			inet_pton(AF_INET, addr, &s4->sin_addr);
			len = sizeof(*s4);
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		int rc = bind(fd, (struct sockaddr *)&ss, len);
		int err = errno;
		close(fd);
		if (rc != 0 && err == EADDRINUSE) {
			log_err("main", "cannot start: the %s port %u is already in use by another "
				"program; stop it or change %s", ports[i].what, num[i], ports[i].setting);
			return;
		}
	}
	log_err("main", "cannot start: an address is already in use (see the lines above)");
}

static void banner(const struct conf *c, const struct priv_user *u, bool fresh, bool tty,
		   char urls[][80], int nurls)
{
	printf("Hookflash %s is running%s%s. SIP: port %u (UDP and TCP). Data: %s\n"
	       "Web administration and REST API (the certificate is self-signed):\n",
	       HF_VERSION, u->drop ? " as user " : "", u->drop ? u->name : "", c->sip_udp_port,
	       c->data_dir);
	for (int i = 0; i < nurls; i++)
		printf("  %s\n", urls[i]);
	if (!fresh)
		printf("Sign in as admin (lost the password? hookflash --data-dir %s admin "
		       "reset-password).\n", c->data_dir);
	else if (!tty)
		printf("Sign in as admin with the password in %s/" CREDS_FILE ".\n", c->data_dir);
	printf("Stop with Ctrl-C.\n");
}

int main(int argc, char **argv)
{
	struct conf c;
	char err[512];
	conf_defaults(&c);
	int rc = conf_from_args(&c, argc, argv, err, sizeof(err));
	if (rc < 0)
		return 0;
	if (rc) {
		fprintf(stderr, "hookflashd: %s\n", err);
		return 2;
	}
	log_set_level((enum log_level)c.log_level);
	log_set_sip_trace(c.sip_trace);
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct priv_user u;
	if (priv_user_resolve(&c, &u, err, sizeof(err))) {
		fprintf(stderr, "hookflashd: %s\n", err);
		return 1;
	}
	if (mkdir(c.data_dir, 0750) < 0 && errno != EEXIST) {
		fprintf(stderr, "hookflashd: cannot create data directory %s: %s\n", c.data_dir,
			strerror(errno));
		return 1;
	}
	/* before anything is bound or opened: a second daemon on the same
	 * data says so instead of half starting */
	int lock_fd;
	if (priv_lock_take(c.data_dir, &lock_fd))
		return 1;
	if (priv_begin(&u, &c)) {
		priv_fail(&u);
		return 1;
	}

	struct creds cr = { .n = 0 };
	bool fresh = false;
	if (prepare_data_dir(&c, &cr, &fresh)) {
		priv_fail(&u);
		return 1;
	}
	log_set_level((enum log_level)c.log_level);
	log_set_sip_trace(c.sip_trace);
	char urls[MAX_URLS][80];
	int nurls = web_urls(&c, urls);
	if (fresh)
		write_creds(&c, &cr, urls, nurls);

	struct pbx *p;
	rc = pbx_alloc(&p, &c);
	if (rc == EADDRINUSE)
		explain_in_use(&c);
	else if (rc)
		log_err("main", "cannot start: %s", strerror(rc));
	if (rc) {
		explicit_bzero(&cr, sizeof(cr));
		priv_fail(&u);
		return 1;
	}
	if (priv_finish(&u)) {
		pbx_free(p);
		explicit_bzero(&cr, sizeof(cr));
		return 1;
	}
	log_info("main", "Hookflash %s ready: SIP on port %u (udp, tcp), data in %s",
		 HF_VERSION, c.sip_udp_port, c.data_dir);
	bool tty = isatty(STDOUT_FILENO);
	banner(&c, &u, fresh, tty, urls, nurls);
	if (fresh && tty) {
		printf("\n");
		print_creds(stdout, &c, &cr, urls, nurls);
		printf("(Also saved in %s/" CREDS_FILE ", readable by root and the PBX only: "
		       "delete it once noted.)\n", c.data_dir);
	}
	explicit_bzero(&cr, sizeof(cr));
	fflush(stdout);
	rc = pbx_run(p);
	pbx_free(p);
	log_info("main", "stopped");
	close(lock_fd);
	return rc ? 1 : 0;
}
