/*
 * Client side of the control protocol (core/ctl/ctl_proto.h): one request
 * per connection, the whole reply read into memory and split into rows of
 * tab-separated fields.
 */
#ifndef HF_CTL_CLIENT_H
#define HF_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_ROW_FIELDS 8

struct ctl_row {
	size_t nfields;
	const char *field[CTL_ROW_FIELDS]; /* the last one keeps any extra tabs */
};

struct ctl_reply {
	bool ok;           /* "OK"; otherwise "ERR <msg>" */
	const char *msg;   /* the text after ERR ("" when none) */
	struct ctl_row *rows;
	size_t nrows;
	char *buf;         /* owns the strings above */
};

/* Sends "cmd[ arg]\n" to the socket at path and reads the reply, all
 * within timeout_ms. Returns 0 with *out filled (whether OK or ERR), or:
 * ENOENT / ECONNREFUSED  no daemon listens there;
 * EACCES                 not allowed to use the socket;
 * ETIMEDOUT              no complete answer in time;
 * ECONNABORTED           the daemon closed the connection without a reply;
 * EPROTO                 the answer is not in the protocol's shape;
 * EINVAL                 arg would break the one-line request;
 * ENAMETOOLONG, ENOMEM, EMSGSIZE (reply over 16 MB), or a socket errno. */
int ctl_call(const char *path, const char *cmd, const char *arg, int timeout_ms,
	     struct ctl_reply *out);
void ctl_reply_free(struct ctl_reply *r);

#endif
