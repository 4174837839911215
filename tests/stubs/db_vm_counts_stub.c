/*
 * TEST-ONLY stand-in for db_vm_counts (db/voicemail.h), which comes with
 * db/voicemail.c from the voicemail storage branch. Until that is merged
 * the Makefile links this file instead (VM_COUNTS_STUB), so the daemon
 * and the message-waiting tests build; it goes away by itself once
 * db/voicemail.c exists. It counts rows of a table vm_messages(mailbox,
 * folder) when there is one (the integration test makes it), else 0/0.
 */
#include <errno.h>
#include <string.h>

#include "../../db/db_int.h"
#include "../../db/voicemail.h"

int db_vm_counts(struct db *db, const char *mailbox, int *new_msgs, int *old_msgs)
{
	if (!db || !mailbox || !new_msgs || !old_msgs)
		return EINVAL;
	*new_msgs = *old_msgs = 0;
	sqlite3_stmt *st;
	/* prepared per call, not cached: the table may appear later */
	if (sqlite3_prepare_v2(db->sql,
			       "SELECT folder, count(*) FROM vm_messages WHERE mailbox = ?1"
			       " GROUP BY folder",
			       -1, &st, NULL) != SQLITE_OK)
		return 0; /* no such table: an empty mailbox */
	int err = db_bind_str(st, 1, mailbox, 32);
	while (!err && sqlite3_step(st) == SQLITE_ROW) {
		const char *f = (const char *)sqlite3_column_text(st, 0);
		int n = sqlite3_column_int(st, 1);
		if (f && !strcmp(f, DB_VM_FOLDER_NEW))
			*new_msgs += n;
		else if (f && !strcmp(f, DB_VM_FOLDER_OLD))
			*old_msgs += n;
	}
	sqlite3_finalize(st);
	return err;
}
