/*
 * The control protocol between `hookflash` and a running hookflashd.
 * The client connects to DATA_DIR/hookflash.ctl, writes one line
 * "COMMAND [ARGS]\n"; the daemon answers "OK" or "ERR <message>" on the
 * first line, then zero or more rows of tab-separated fields, and closes.
 *
 *   status          rows "key\tvalue"
 *   registrations   rows "ext\tcontact\tsource\texpires_in_s\tuser_agent"
 *   bans            rows "address\tfailures\tbanned_for_s"
 *   unban ADDR      no rows
 *   reload          no rows; answered once the new configuration is live
 *   trace on|off    no rows
 *   loglevel LEVEL  no rows
 */
#ifndef HF_CTL_PROTO_H
#define HF_CTL_PROTO_H

#define CTL_SOCKET_NAME "hookflash.ctl"

#define CTL_CMD_STATUS "status"
#define CTL_CMD_REGISTRATIONS "registrations"
#define CTL_CMD_BANS "bans"
#define CTL_CMD_UNBAN "unban"
#define CTL_CMD_RELOAD "reload"
#define CTL_CMD_TRACE "trace"
#define CTL_CMD_LOGLEVEL "loglevel"

/* First line of a reply: "OK", or "ERR" followed by a space and why. */
#define CTL_REPLY_OK "OK"
#define CTL_REPLY_ERR "ERR"
/* Longest request line, newline included (the server drops longer). */
#define CTL_LINE_MAX 512
/* How long the client waits for the whole exchange. */
#define CTL_CLIENT_TIMEOUT_MS 5000

#endif
