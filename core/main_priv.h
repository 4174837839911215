/*
 * What hookflashd does about who it runs as (core/main_priv.c): one lock
 * per data directory, so a second daemon on the same data says so before
 * it binds anything; and, when started as root, the drop to a dedicated
 * user in two steps around the start-up that opens the sockets.
 */
#ifndef HF_MAIN_PRIV_H
#define HF_MAIN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/conf.h"

#define PRIV_DEFAULT_USER "hookflash"

struct priv_user {
	bool drop;     /* started as root, running as name after priv_finish */
	bool as_root;  /* started as root and told to stay root (--user root) */
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Takes DATA_DIR/hookflashd.lock for the life of the process (the fd is
 * never closed) and writes our pid in it. When another process holds it,
 * prints "hookflashd is already running with data directory X (pid N)" to
 * stderr and returns EBUSY; other errors are printed too. */
int priv_lock_take(const char *data_dir, int *fd_out);

/* Who to become: fills *u from --user / [general] user and our own ids.
 * Not root: nothing to drop (an explicit --user naming someone else is an
 * error). Root: the named user, hookflash by default, must exist. On
 * error writes why to err and returns an errno value. */
int priv_user_resolve(const struct conf *c, struct priv_user *u, char *err, size_t cap);

/* Step 1, before anything is created or opened: gives the data directory
 * and the root-owned files in it to the user, takes its groups and its
 * uid as effective uid (so every file start-up creates is the user's),
 * keeping CAP_NET_BIND_SERVICE only while a configured port is below
 * 1024. Does nothing unless u->drop. 0 or an errno value (logged). */
int priv_begin(const struct priv_user *u, const struct conf *c);

/* Step 2, once every socket is bound: real, effective and saved uid
 * become the user's in every thread, which empties every capability set;
 * then checks that root cannot be regained. 0, or EPERM (logged) when
 * any check fails: the daemon must then exit. */
int priv_finish(const struct priv_user *u);

/* Start-up failed between the two steps: the process exits as the user
 * (root is not taken back), and dumpable again so that LeakSanitizer in
 * the test build can still look at it on the way out. */
void priv_fail(const struct priv_user *u);

#endif
