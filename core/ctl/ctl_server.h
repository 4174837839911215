/*
 * The control socket: a unix stream socket in the data directory (mode
 * 0600, so only the PBX's own user and root may use it) through which the
 * `hookflash` tool asks the running daemon for live state and actions.
 * The protocol is in ctl_proto.h.
 */
#ifndef HF_CTL_SERVER_H
#define HF_CTL_SERVER_H

struct loop;
struct registrar;
struct call_mgr;
struct ban_list;
struct pbx_status;
struct ctl_server;

typedef void(ctl_done_h)(int err, void *arg);
/* err 0: the message was accepted by the SMTP server; else why not. */
typedef void(ctl_mail_done_h)(int err, const char *why, void *arg);

/* What the control socket uses, and nothing more: the parts it lists and
 * acts on, and two services of whoever wires the signalling side
 * together (core/pbx). All live on the signalling loop. */
struct ctl_deps {
	struct loop *loop;
	const char *data_dir;        /* where the socket goes (copied) */
	struct registrar *reg;       /* "registrations" */
	struct call_mgr *calls;      /* "calls", "hangup" */
	struct ban_list *bans;       /* "bans", "unban" */
	/* "status": fills the one live-state snapshot the web renders too */
	void (*status)(struct pbx_status *out, void *arg);
	/* "reload": re-reads the extensions; done runs once they are live */
	void (*reload)(ctl_done_h *done, void *done_arg, void *arg);
	/* "email test": one attempt to send a test message to to (with the
	 * file attach when not NULL); done runs with the outcome unless this
	 * returns an error (EINVAL: not an address, ENOTCONN: no server) */
	int (*email_test)(const char *to, const char *attach, ctl_mail_done_h *done,
			  void *done_arg, void *arg);
	/* "mwi notify N": re-sends mailbox N's lamp state to its
	 * subscribers; ENOENT when N is no enabled extension */
	int (*mwi_notify)(const char *mailbox, void *arg);
	void *arg;                   /* for status, reload, email_test and mwi_notify */
};

int ctl_server_alloc(struct ctl_server **out, const struct ctl_deps *deps);
void ctl_server_free(struct ctl_server *s);

#endif
