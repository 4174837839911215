/*
 * Message waiting wired into the PBX (core/mwi): the counts the lamp
 * shows are read on the store thread (db_vm_counts) and handed back on
 * the loop; the subscriptions saved before a restart are read at start
 * and each gets a NOTIFY as soon as the loop runs; unsolicited NOTIFYs go
 * to an extension's registered phones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../db/db.h"
#include "../../db/mwi.h"
#include "../../db/store.h"
#include "../../db/voicemail.h"
#include "../base/log.h"
#include "../base/loop.h"
#include "../ident/ext_table.h"
#include "../mwi/mwi.h"
#include "../reg/registrar.h"
#include "pbx.h"

struct counts_job {
	struct loop *loop;
	char mailbox[32];
	mwi_counts_done_h *done;
	void *arg;
	int new_msgs, old_msgs;
};

static void counts_apply(void *arg)
{
	struct counts_job *j = arg;
	j->done(j->new_msgs, j->old_msgs, j->arg);
	free(j);
}

static void counts_read(struct db *db, void *arg)
{
	struct counts_job *j = arg;
	if (db_vm_counts(db, j->mailbox, &j->new_msgs, &j->old_msgs)) {
		log_warn("mwi", "cannot count the messages of %s: %s", j->mailbox, db_errmsg(db));
		j->new_msgs = j->old_msgs = -1;
	}
	if (loop_post(j->loop, counts_apply, j))
		free(j); /* the loop is going away: nobody waits any more */
}

void pbx_mwi_counts(const char *mailbox, mwi_counts_done_h *done, void *arg, void *deps_arg)
{
	struct pbx *p = deps_arg;
	struct counts_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->loop = p->loop;
		snprintf(j->mailbox, sizeof(j->mailbox), "%s", mailbox);
		j->done = done;
		j->arg = arg;
	}
	if (!j || store_post(p->store, counts_read, j)) {
		free(j);
		done(-1, -1, arg);
	}
}

void pbx_mwi_changed(struct pbx *p, const char *mailbox)
{
	mwi_changed(p->mwi, mailbox);
}

int pbx_mwi_notify(struct pbx *p, const char *mailbox)
{
	const struct ext *e = ext_table_find(p->exts, pl_from(mailbox));
	if (!e || !e->enabled)
		return ENOENT;
	mwi_changed(p->mwi, e->number);
	return 0;
}

struct unsol_ctx {
	struct mwi_contact to[MWI_UNSOL_MAX];
	size_t n;
};

static void unsol_contact(const char *contact, const struct sip_peer *source, void *arg)
{
	struct unsol_ctx *u = arg;
	if (u->n < MWI_UNSOL_MAX)
		u->to[u->n++] = (struct mwi_contact){ .uri = contact, .peer = *source };
}

int pbx_mwi_unsolicited(struct pbx *p, const char *mailbox)
{
	struct unsol_ctx u = { .n = 0 };
	registrar_lookup(p->reg, mailbox, unsol_contact, &u);
	/* the contacts are copied before the registrar can change */
	return mwi_notify_unsolicited(p->mwi, mailbox, u.to, u.n);
}

struct restore_ctx {
	struct pbx *p;
	int64_t now;
	int restored, dropped;
};

static void restore_one(const struct db_mwi_sub *row, void *arg)
{
	struct restore_ctx *rc = arg;
	const struct ext *e = ext_table_find(rc->p->exts, pl_from(row->mailbox));
	if (!e || !e->enabled || mwi_restore(rc->p->mwi, row, rc->now))
		rc->dropped++;
	else
		rc->restored++;
}

int pbx_mwi_load(struct pbx *p)
{
	struct db *db;
	int err = db_open(&db, p->db_path);
	if (err) {
		log_err("pbx", "cannot open database %s: %s", p->db_path, strerror(err));
		return err;
	}
	struct restore_ctx rc = { .p = p, .now = (int64_t)time(NULL) };
	if (db_mwi_load(db, rc.now, restore_one, &rc))
		log_err("pbx", "cannot read message-waiting subscriptions: %s", db_errmsg(db));
	db_close(db);
	if (rc.restored || rc.dropped)
		log_info("pbx", "%d message-waiting subscriptions restored%s", rc.restored,
			 rc.dropped ? " (some dropped: expired or unknown)" : "");
	return 0;
}
