/*
 * Message-waiting subscriptions (core/mwi) in the database, so a restart
 * keeps the phones' lamps right without waiting for them to subscribe
 * again: each row is the dialog state needed to send a NOTIFY. The loop
 * owns the live subscriptions; these are their write-behind, run on the
 * store thread, and the read at start (db_mwi_load). Same conventions as
 * db.h.
 */
#ifndef HF_DB_MWI_H
#define HF_DB_MWI_H

#include <stdint.h>

struct db;

struct db_mwi_sub {
	char call_id[256];
	char local_tag[64];        /* ours: the To tag of the 200 */
	char remote_tag[128];
	char mailbox[32];          /* the subscriber's extension */
	char local_hdr[512];       /* our To value, without tag */
	char remote_hdr[512];      /* their From value, without tag */
	char remote_target[512];   /* their Contact URI: the NOTIFY's Request-URI */
	char routes[1024];         /* "Route: ...\r\n" lines, may be "" */
	char local_contact[300];
	char peer[96];             /* "udp:1.2.3.4:5060": where NOTIFYs go */
	uint32_t local_cseq;       /* the last NOTIFY's */
	uint32_t remote_cseq;      /* the last SUBSCRIBE's */
	int64_t expires_at;        /* unix s */
};

/* Inserts or updates the row of (call_id, local_tag). ENOENT when the
 * mailbox's extension does not exist. */
int db_mwi_save(struct db *db, const struct db_mwi_sub *s);
/* Deletes one row; 0 whether or not it was there. */
int db_mwi_delete(struct db *db, const char *call_id, const char *local_tag);
/* Deletes the rows that expired by now, then calls h for each other. */
typedef void(db_mwi_h)(const struct db_mwi_sub *s, void *arg);
int db_mwi_load(struct db *db, int64_t now, db_mwi_h *h, void *arg);

#endif
