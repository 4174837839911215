/*
 * The control socket: a unix stream socket in the data directory (mode
 * 0600, so only the PBX's own user and root may use it) through which the
 * `hookflash` tool asks the running daemon for live state and actions.
 * The protocol is in ctl_proto.h.
 */
#ifndef HF_CTL_SERVER_H
#define HF_CTL_SERVER_H

struct pbx;
struct ctl_server;

int ctl_server_alloc(struct ctl_server **out, struct pbx *p);
void ctl_server_free(struct ctl_server *s);

#endif
