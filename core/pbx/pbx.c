/*
 * Building, running and reloading the PBX context (see pbx.h). Start-up
 * is the one moment the signalling thread may touch the disk: it reads the
 * extensions and the saved registrations before the loop runs. After that
 * every database access goes through the store thread.
 */
#include "pbx.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "../../apps/apps.h"
#include "../../apps/common/manifest.h"
#include "../../db/db.h"
#include "../../db/store.h"
#include "../../db/voicemail.h"
#include "../../web/web.h"
#include "../base/jobs.h"
#include "../base/log.h"
#include "../base/loop.h"
#include "../call/app.h"
#include "../call/call.h"
#include "../ctl/ctl_server.h"
#include "../dialplan/numplan.h"
#include "../media/audio/prompts.h"
#include "../mail/mail.h"
#include "../mwi/mwi.h"
#include "../reg/registrar.h"
#include "../sip/auth.h"
#include "../sip/ban.h"
#include "../sip/msg.h"
#include "../sip/transport.h"
#include "../sip/tsx.h"
#include "../ident/domains.h"
#include "../ident/ext_table.h"

static uint64_t pbx_now(void *arg)
{
	struct pbx *p = arg;
	return loop_now(p->loop);
}

static int tsx_send(const struct sip_peer *to, const char *data, size_t len, void *arg)
{
	struct pbx *p = arg;
	return sip_transport_send(p->tp, to, data, len);
}

static void on_sip_msg(struct sip_msg *msg, const struct sip_peer *from, void *arg)
{
	struct pbx *p = arg;
	sip_tsx_layer_recv(p->tsx, msg, from);
}

static void on_stray(const struct sip_msg *msg, const struct sip_peer *from, void *arg)
{
	struct pbx *p = arg;
	call_on_stray_response(p->calls, msg, from);
}

static void reg_cfg_from(const struct conf *c, struct reg_cfg *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->min_expires = c->min_expires;
	rc->max_expires = c->max_expires;
	rc->default_expires = c->default_expires;
	if (rc->default_expires < rc->min_expires)
		rc->default_expires = rc->min_expires;
	if (rc->default_expires > rc->max_expires)
		rc->default_expires = rc->max_expires;
}

/* An address with working phones is never banned as a whole (authn.h):
 * one phone with a mistyped password must not cut off the office behind
 * the same NAT. */
static bool addr_busy(void *arg, const struct sockaddr *sa)
{
	struct pbx *p = arg;
	return registrar_has_source(p->reg, sa);
}

static void ban_cfg_from(const struct conf *c, struct ban_cfg *bc)
{
	memset(bc, 0, sizeof(*bc));
	bc->fail_limit = c->auth_fail_limit;
	bc->window_s = c->auth_fail_window;
	bc->ban_s = c->ban_time;
}

static void mail_cfg_from(const struct conf *c, struct mail_cfg *mc)
{
	mail_cfg_defaults(mc);
	snprintf(mc->smtp_url, sizeof(mc->smtp_url), "%s", c->smtp_url);
	snprintf(mc->from, sizeof(mc->from), "%s", c->mail_from);
	snprintf(mc->username, sizeof(mc->username), "%s", c->smtp_user);
	snprintf(mc->password, sizeof(mc->password), "%s", c->smtp_password);
	mc->tls = c->smtp_tls == CONF_TLS_OFF	  ? MAIL_TLS_OFF
		  : c->smtp_tls == CONF_TLS_REQUIRE ? MAIL_TLS_REQUIRE
						    : MAIL_TLS_TRY;
}

struct restore_ctx {
	struct pbx *p;
	int64_t now;
	int restored, dropped;
};

static void restore_one(const struct db_reg *row, void *arg)
{
	struct restore_ctx *rc = arg;
	const struct ext *e = ext_table_find(rc->p->exts, pl_from(row->ext));
	if (!e || !e->enabled ||
	    registrar_restore(rc->p->reg, row, rc->now))
		rc->dropped++;
	else
		rc->restored++;
}

/* Start-up reads: extensions and saved registrations. */
static int load_initial(struct pbx *p)
{
	struct db *db;
	int err = db_open(&db, p->db_path);
	if (err) {
		log_err("pbx", "cannot open database %s: %s", p->db_path, strerror(err));
		return err;
	}
	/* a read-only file or mount still opens (SQLite falls back to reading);
	 * say so once here rather than as a puzzling error per CDR later */
	if (db_readonly(db))
		log_err("pbx", "database %s is read-only (file permissions or a read-only mount):"
			" calls still connect, but CDRs, registrations and changes are not saved"
			" until it is writable", p->db_path);
	err = ext_table_load(&p->exts, db);
	if (!err && (err = numplan_load(&p->plan, db)))
		log_err("pbx", "cannot read the numbering plan: %s", db_errmsg(db));
	else if (err)
		log_err("pbx", "cannot read extensions: %s", db_errmsg(db));
	if (err) {
		db_close(db);
		return err;
	}
	struct restore_ctx rc = { .p = p, .now = (int64_t)time(NULL) };
	db_reg_load(db, rc.now, restore_one, &rc);
	apps_startup(db, p->conf.data_dir); /* before any call: no loop yet */
	db_close(db);
	log_info("pbx", "%zu extensions, %zu numbers in the plan, %d registrations restored%s",
		 ext_table_count(p->exts), numplan_count(p->plan), rc.restored,
		 rc.dropped ? " (some dropped: expired or unknown)" : "");
	return 0;
}

/* --- reload ------------------------------------------------------------- */

struct reload_job {
	struct pbx *p;
	struct ext_table *t;
	struct numplan *plan;
	int err;
	pbx_reload_done_h *done;
	void *arg;
};

static bool ext_still_active(const char *ext, void *arg)
{
	const struct ext *e = ext_table_find(arg, pl_from(ext));
	return e && e->enabled;
}

static void reload_apply(void *arg)
{
	struct reload_job *j = arg;
	struct pbx *p = j->p;
	if (!j->err) {
		struct ext_table *old = p->exts;
		p->exts = j->t;
		numplan_free(p->plan);
		p->plan = j->plan;
		/* Extensions removed (or disabled) lose their registrations:
		 * a deleted user's phone must stop ringing at once. */
		registrar_retain(p->reg, ext_still_active, p->exts);
		mwi_retain(p->mwi, ext_still_active, p->exts);
		ext_table_unref(old);
		p->reloads++;
		log_info("pbx", "configuration reloaded: %zu extensions, %zu numbers",
			 ext_table_count(p->exts), numplan_count(p->plan));
	} else {
		log_err("pbx", "reload failed: %s", strerror(j->err));
	}
	if (j->done)
		j->done(j->err, j->arg);
	free(j);
}

static void reload_read(struct db *db, void *arg)
{
	struct reload_job *j = arg;
	j->err = ext_table_load(&j->t, db);
	if (!j->err) {
		j->err = numplan_load(&j->plan, db);
		if (j->err)
			ext_table_unref(j->t);
	}
	if (loop_post(j->p->loop, reload_apply, j)) {
		if (!j->err) {
			ext_table_unref(j->t);
			numplan_free(j->plan);
		}
		free(j);
	}
}

void pbx_reload(struct pbx *p, pbx_reload_done_h *done, void *arg)
{
	struct reload_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->p = p;
		j->done = done;
		j->arg = arg;
	}
	if (!j || store_post(p->store, reload_read, j)) {
		free(j);
		if (done)
			done(ENOMEM, arg);
	}
}

/* --- settings ------------------------------------------------------------ */

struct saved_ctx {
	struct conf *c;
	int applied, bad;
};

static void saved_one(const char *key, const char *value, void *arg)
{
	struct saved_ctx *sc = arg;
	const char *name = key + strlen(PBX_SETTING_PREFIX);
	const struct conf_info *ci = conf_info_find(name);
	char err[256];
	if (!ci || !ci->editable || conf_set_name(sc->c, name, value, err, sizeof(err))) {
		/* a value from an older version, or edited by hand: skip it,
		 * the file's (or the default) stays */
		log_warn("pbx", "ignoring saved setting %s", name);
		sc->bad++;
		return;
	}
	sc->applied++;
}

int pbx_conf_apply_saved(struct conf *c, struct db *db)
{
	struct conf tmp = *c;
	struct saved_ctx sc = { .c = &tmp };
	int n = db_setting_each(db, PBX_SETTING_PREFIX, saved_one, &sc);
	if (n < 0)
		return -n;
	char err[256];
	if (conf_check(&tmp, err, sizeof(err))) {
		log_err("pbx", "saved settings not used: %s", err);
		return EINVAL;
	}
	*c = tmp;
	return 0;
}

/* On the loop: what a reload may change without disturbing anyone
 * (calls in progress keep what they were set up with). */
static void apply_live(struct pbx *p, const struct conf *c)
{
	conf_copy_live(&p->conf, c);
	log_set_level((enum log_level)p->conf.log_level);
	log_set_sip_trace(p->conf.sip_trace);
	struct reg_cfg rcfg;
	reg_cfg_from(&p->conf, &rcfg);
	registrar_configure(p->reg, &rcfg);
	struct ban_cfg bc;
	ban_cfg_from(&p->conf, &bc);
	ban_list_configure(p->bans, &bc);
	authn_set_algs(&p->authn, p->conf.digest_algs);
	authn_set_trusted(&p->authn, p->conf.trusted_networks);
	sip_tsx_layer_set_limits(p->tsx, p->conf.tsx_max_per_source, p->conf.tsx_max);
	struct mail_cfg mc;
	mail_cfg_from(&p->conf, &mc);
	mailer_configure(p->mailer, &mc);
	memset(&mc, 0, sizeof(mc)); /* no copy of the password left on the stack */
}

struct reconf_job {
	struct pbx *p;
	struct conf c;
	bool ok;
	pbx_reload_done_h *done;
	void *arg;
};

static void reconf_apply(void *arg)
{
	struct reconf_job *j = arg;
	if (j->ok) {
		apply_live(j->p, &j->c);
		log_info("pbx", "settings reloaded (addresses and ports apply at restart)");
	}
	pbx_reload(j->p, j->done, j->arg);
	free(j);
}

/* The voicemail PIN rules for the store thread's connection, which
 * checks PINs and stores new ones (db/voicemail.h). */
static void vm_policy_apply(struct db *db, const struct conf *c)
{
	struct db_vm_policy vp = { .pin_min_len = c->vm_pin_min_len,
				   .lock_after = c->vm_pin_lock_after,
				   .lock_secs = c->vm_pin_lock_secs };
	db_vm_policy_set(db, &vp);
}

static void vm_policy_job(struct db *db, void *arg)
{
	vm_policy_apply(db, arg);
	free(arg);
}

/* On the store thread: the saved settings go over the file's. */
static void reconf_read(struct db *db, void *arg)
{
	struct reconf_job *j = arg;
	if (j->ok && pbx_conf_apply_saved(&j->c, db))
		j->ok = false;
	if (j->ok)
		vm_policy_apply(db, &j->c);
	if (loop_post(j->p->loop, reconf_apply, j)) {
		/* the loop is going away: nobody waits for done any more */
		free(j);
	}
}

void pbx_reconfigure(struct pbx *p, pbx_reload_done_h *done, void *arg)
{
	struct reconf_job *j = calloc(1, sizeof(*j));
	if (!j) {
		if (done)
			done(ENOMEM, arg);
		return;
	}
	j->p = p;
	j->c = p->conf;
	j->done = done;
	j->arg = arg;
	char err[256];
	const char *path = j->c.config_file[0] ? j->c.config_file : NULL;
	char def[320];
	if (!path) {
		snprintf(def, sizeof(def), "%s/hookflash.conf", j->c.data_dir);
		path = def;
	}
	int rc = conf_load_file(&j->c, path, err, sizeof(err));
	j->ok = !rc || rc == ENOENT;
	if (!j->ok)
		log_err("pbx", "not reloading settings: %s", err);
	if (store_post(p->store, reconf_read, j)) {
		free(j);
		if (done)
			done(ENOMEM, arg);
	}
}

/* --- housekeeping -------------------------------------------------------- */

/* One slow timer for chores (Redis's serverCron, minus the chores we do
 * not have yet): give freed heap back to the system, so a burst of
 * registrations does not leave the daemon looking gigabytes big. */
static void on_housekeeping(void *arg)
{
	struct pbx *p = arg;
	malloc_trim(0);
	loop_timer_start(p->loop, &p->housekeeping, 30000, on_housekeeping, p);
}

/* --- signals ------------------------------------------------------------ */

static void on_signal(int fd, uint32_t events, void *arg)
{
	struct pbx *p = arg;
	struct signalfd_siginfo si;
	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("pbx", "SIGHUP: reloading");
			pbx_reconfigure(p, NULL, NULL);
		} else {
			log_info("pbx", "signal %u: shutting down", si.ssi_signo);
			loop_stop(p->loop);
		}
	}
}

static int signals_setup(struct pbx *p)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* blocked before any thread starts, so only the signalfd sees them */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	p->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p->sigfd < 0)
		return errno;
	return loop_fd_add(p->loop, p->sigfd, EPOLLIN, on_signal, p);
}

/* --- what the control socket is given ---------------------------------- */

static void ctl_status(struct pbx_status *out, void *arg)
{
	pbx_status_fill(arg, out);
}

static void ctl_reload(ctl_done_h *done, void *done_arg, void *arg)
{
	pbx_reload(arg, done, done_arg);
}

/* --- e-mail -------------------------------------------------------------- */

int pbx_email_test(struct pbx *p, const char *to, const char *attach, pbx_mail_done_h *done,
		   void *arg)
{
	struct mail_msg m = { 0 };
	if (!to || strlen(to) >= sizeof(m.to))
		return EINVAL;
	snprintf(m.to, sizeof(m.to), "%s", to);
	snprintf(m.subject, sizeof(m.subject), "Hookflash test e-mail");
	char text[512];
	snprintf(text, sizeof(text),
		 "This is a test message from the Hookflash PBX%s%s.\r\n"
		 "If you can read it, its e-mail settings work: voicemail can be sent\r\n"
		 "to this address.\r\n",
		 p->conf.domain[0] ? " at " : "", p->conf.domain);
	m.text = text;
	if (attach) {
		const char *slash = strrchr(attach, '/');
		const char *dot = strrchr(attach, '.');
		m.attach_path = attach;
		m.attach_name = slash ? slash + 1 : attach;
		m.attach_type = dot && !strcasecmp(dot, ".wav") ? "audio/wav" : "application/octet-stream";
	}
	int err = mailer_send_once(p->mailer, &m, done, arg);
	if (!err)
		log_info("pbx", "sending a test e-mail to %s", to);
	return err;
}

static int ctl_email_test(const char *to, const char *attach, ctl_mail_done_h *done,
			  void *done_arg, void *arg)
{
	return pbx_email_test(arg, to, attach, done, done_arg);
}

static int ctl_mwi_notify(const char *mailbox, void *arg)
{
	return pbx_mwi_notify(arg, mailbox);
}

/* --- lifecycle ---------------------------------------------------------- */

/* --- what the apps may ask of the PBX (app.h, struct app_services) --------- */

static void svc_mailbox_changed(const char *mailbox, void *arg)
{
	pbx_mwi_changed(arg, mailbox); /* the lamp: NOTIFY the mailbox's phones */
}

static void svc_reload(void *arg)
{
	pbx_reload(arg, NULL, NULL);
}

struct svc_mail_job {
	app_mail_done_h *done;
	void *arg;
};

static void svc_mail_done(int err, const char *why, void *arg)
{
	struct svc_mail_job *j = arg;
	(void)why; /* the mailer logged it and keeps the last error for the web */
	if (j->done)
		j->done(err, j->arg);
	free(j);
}

static int svc_mail(const char *to, const char *subject, const char *text, const char *attach_path,
		    app_mail_done_h *done, void *done_arg, void *arg)
{
	struct pbx *p = arg;
	if (!p->mailer)
		return ENOSYS;
	struct svc_mail_job *j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	j->done = done;
	j->arg = done_arg;
	struct mail_msg m;
	memset(&m, 0, sizeof(m));
	snprintf(m.to, sizeof(m.to), "%s", to);
	snprintf(m.subject, sizeof(m.subject), "%s", subject);
	m.text = (char *)text; /* copied by mailer_send */
	m.attach_path = attach_path;
	m.attach_name = attach_path ? "message.wav" : NULL;
	m.attach_type = attach_path ? "audio/wav" : NULL;
	int err = mailer_send(p->mailer, &m, svc_mail_done, j);
	if (err)
		free(j);
	return err;
}

static int svc_store(app_store_h *work, void *work_arg, void *arg)
{
	struct pbx *p = arg;
	return store_post(p->store, work, work_arg);
}

int pbx_alloc(struct pbx **out, const struct conf *conf)
{
	struct pbx *p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->conf = *conf;
	p->sigfd = -1;
	snprintf(p->db_path, sizeof(p->db_path), "%s/hookflash.db", conf->data_dir);
	p->started_wall = time(NULL);
	int err = loop_alloc(&p->loop);
	if (err)
		goto out;
	p->started_ms = loop_now(p->loop);
	err = signals_setup(p);
	if (err)
		goto out;
	err = store_alloc(&p->store, p->db_path);
	if (err) {
		log_err("pbx", "cannot start the store thread: %s", strerror(err));
		goto out;
	}
	struct conf *vc = malloc(sizeof(*vc));
	if (vc)
		*vc = *conf;
	if (!vc || store_post(p->store, vm_policy_job, vc)) {
		free(vc);
		err = ENOMEM;
		goto out;
	}
	err = jobs_alloc(&p->jobs, 1, p->loop);
	if (err)
		goto out;
	struct mail_cfg mc;
	mail_cfg_from(conf, &mc);
	err = mailer_alloc(&p->mailer, p->jobs, p->loop, &mc);
	memset(&mc, 0, sizeof(mc));
	if (err)
		goto out;
	struct ban_cfg bc;
	ban_cfg_from(conf, &bc);
	err = auth_nonces_alloc(&p->nonces, conf->nonce_ttl);
	if (!err)
		err = ban_list_alloc(&p->bans, &bc);
	if (!err)
		err = domains_alloc(&p->domains, conf);
	if (err)
		goto out;
	p->authn.realm = conf->domain[0] ? conf->domain : "hookflash";
	authn_set_algs(&p->authn, conf->digest_algs);
	p->authn.nonces = p->nonces;
	p->authn.bans = p->bans;
	p->authn.now_ms = pbx_now;
	p->authn.now_arg = p;
	p->authn.addr_busy = addr_busy;
	p->authn.busy_arg = p;
	if (authn_set_trusted(&p->authn, conf->trusted_networks))
		log_warn("pbx", "security.trusted_networks: an entry does not parse and is ignored");

	struct reg_cfg rc;
	reg_cfg_from(conf, &rc);
	err = registrar_alloc(&p->reg, p->loop, p->store, &rc);
	if (err)
		goto out;
	err = load_initial(p);
	if (err)
		goto out;

	err = sip_tsx_layer_alloc(&p->tsx, p->loop, NULL, tsx_send, p, pbx_on_request, p);
	if (!err)
		sip_tsx_layer_set_limits(p->tsx, conf->tsx_max_per_source, conf->tsx_max);
	if (err)
		goto out;
	sip_tsx_layer_set_stray_h(p->tsx, on_stray, p);
	const char *binds[CONF_MAX_BINDS];
	for (int i = 0; i < conf->nbinds; i++)
		binds[i] = conf->binds[i];
	struct sip_transport_cfg tc = {
		.binds = binds,
		.nbinds = conf->nbinds,
		.udp_port = conf->sip_udp_port,
		.tcp_port = conf->sip_tcp_port,
		.tcp_idle_timeout_s = conf->tcp_idle_timeout,
		.tcp_max_conns = conf->tcp_max_conns,
		.tcp_max_conns_per_addr = conf->tcp_max_conns_per_addr,
		.tcp_first_msg_timeout_s = conf->tcp_first_msg_timeout,
	};
	err = sip_transport_alloc(&p->tp, p->loop, &tc, on_sip_msg, p);
	if (err) {
		log_err("pbx", "cannot open SIP transports: %s", strerror(err));
		goto out;
	}
	sip_transport_set_external(p->tp, conf->external_addr);
	/* blocking file work, fine before the loop runs: every prompt the
	 * apps play, checked and converted for 8 and 16 kHz calls once */
	char cache[sizeof(conf->data_dir) + 16];
	snprintf(cache, sizeof(cache), "%s/sounds", conf->data_dir);
	err = prompts_prepare(&p->prompts, conf->sounds_dir, cache, apps_prompts);
	if (err)
		goto out;
	p->mwi_changed = pbx_mwi_changed; /* the web's changes light the lamp too */
	p->services = (struct app_services){
		.mailbox_changed = svc_mailbox_changed,
		.reload = svc_reload,
		.mail = svc_mail,
		.store = svc_store,
		.arg = p,
	};
	struct call_deps cd = {
		.loop = p->loop, .store = p->store, .tp = p->tp, .tsx = p->tsx, .reg = p->reg,
		.authn = &p->authn, .conf = &p->conf, .exts = &p->exts, .plan = &p->plan,
		.apps = apps_builtin, .sounds_dir = p->conf.sounds_dir, .services = &p->services,
		.prompts = p->prompts,
	};
	err = call_mgr_alloc(&p->calls, &cd);
	if (err)
		goto out;
	struct mwi_deps md = {
		.loop = p->loop, .store = p->store, .tp = p->tp, .tsx = p->tsx,
		.authn = &p->authn, .exts = &p->exts, .conf = &p->conf,
		.counts = pbx_mwi_counts, .deps_arg = p,
	};
	err = mwi_alloc(&p->mwi, &md);
	if (!err)
		err = pbx_mwi_load(p);
	if (err)
		goto out;
	err = pbx_web_alloc(&p->pw, p);
	if (err)
		goto out;
	/* the web gets the settings of this start (addresses, ports and
	 * names wait for a restart) as its own copy */
	struct web_deps wd = { .conf = &p->conf, .db_path = p->db_path, .pw = p->pw };
	err = web_server_alloc(&p->web, &wd);
	if (err)
		goto out;
	/* the control socket comes last: its existence tells scripts (and
	 * the tests) that every listener is up */
	struct ctl_deps ctd = {
		.loop = p->loop, .data_dir = conf->data_dir, .reg = p->reg, .calls = p->calls,
		.bans = p->bans, .status = ctl_status, .reload = ctl_reload,
		.email_test = ctl_email_test, .mwi_notify = ctl_mwi_notify, .arg = p,
	};
	err = ctl_server_alloc(&p->ctl, &ctd);
	if (err)
		goto out;
	loop_timer_start(p->loop, &p->housekeeping, 30000, on_housekeeping, p);
	*out = p;
	return 0;
out:
	pbx_free(p);
	return err;
}

int pbx_run(struct pbx *p)
{
	return loop_run(p->loop);
}

void pbx_free(struct pbx *p)
{
	if (!p)
		return;
	web_server_free(p->web); /* its threads may still post to the loop */
	pbx_web_free(p->pw);     /* what they abandoned, now they are gone */
	ctl_server_free(p->ctl);
	/* calls end first: their BYEs and CANCELs still need the transport */
	call_mgr_free(p->calls);
	prompts_free(p->prompts); /* the calls that asked it are gone */
	mwi_free(p->mwi); /* saved subscriptions stay in the database */
	sip_transport_free(p->tp);
	sip_tsx_layer_free(p->tsx);
	registrar_free(p->reg); /* frees bindings only: the database keeps them */
	/* mail in flight is cancelled (curl stops at its next progress
	 * call), then the worker is joined: shutdown never waits for a
	 * dead SMTP server's timeout */
	mailer_free(p->mailer);
	jobs_free(p->jobs);
	store_free(p->store);   /* drains pending writes first */
	ext_table_unref(p->exts);
	numplan_free(p->plan);
	domains_free(p->domains);
	ban_list_free(p->bans);
	auth_nonces_free(p->nonces);
	loop_timer_cancel(&p->housekeeping);
	if (p->sigfd >= 0) {
		loop_fd_del(p->loop, p->sigfd);
		close(p->sigfd);
	}
	loop_free(p->loop);
	free(p);
}
