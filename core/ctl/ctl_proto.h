/*
 * The control protocol between `hookflash` and a running hookflashd.
 * The client connects to DATA_DIR/hookflash.ctl, writes one line
 * "COMMAND [ARGS]\n"; the daemon answers "OK" or "ERR <message>" on the
 * first line, then zero or more rows of tab-separated fields, and closes.
 *
 *   status          rows "key\tvalue": version, then every field of the one
 *                   live-state snapshot (core/pbx/pbx_status.h) the web's
 *                   /api/v1/status also renders: uptime_s, started_at,
 *                   extensions, registrations, calls, calls_total,
 *                   calls_answered, calls_failed, calls_busy,
 *                   calls_no_answer, calls_cancelled, bans,
 *                   auth_failures, reloads, sip_rx, sip_tx, sip_rx_bad,
 *                   transactions, tcp_connections, rtp_relayed, rtp_lost
 *   registrations   rows "ext\tcontact\tsource\texpires_in_s\tuser_agent"
 *   bans            rows "address\tfailures\tbanned_for_s"
 *   unban ADDR      no rows
 *   reload          no rows; answered once the new configuration is live
 *   trace on|off    no rows
 *   loglevel LEVEL  no rows
 *   calls           rows "id\tcaller\tcallee\tstate\tduration_s\tcodec\tdtmf", one
 *                   per call in progress: id is the call's id for hangup (no
 *                   spaces or tabs), state is "ringing", "answered" or "hold",
 *                   duration_s the whole seconds since the INVITE arrived,
 *                   codec e.g. "PCMU/8000", or "PCMU/8000|opus/48000"
 *                   when the legs differ (transcoding; "-" while not yet
 *                   negotiated), dtmf the last 32 digits either phone sent
 *                   ("-" for none)
 *   hangup ID       no rows; ends call ID (both legs, hangup side "admin");
 *                   "ERR no such call" (optionally followed by a space and
 *                   the id) when no call in progress has that id
 *   email test ADDRESS [FILE]
 *                   no rows; sends one test e-mail (no retries) through the
 *                   [email] settings, FILE (an absolute path the daemon
 *                   reads) attached, and answers once the SMTP server took
 *                   it ("OK") or refused it / could not be reached ("ERR
 *                   e-mail not sent: WHY"). Can take up to the mail
 *                   timeouts: clients wait CTL_EMAIL_TIMEOUT_MS.
 *   mwi notify N    no rows; sends mailbox N's subscribers a NOTIFY with
 *                   its current message counts (re-sends the lamp state);
 *                   "ERR no such mailbox N" when N is no enabled extension
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
#define CTL_CMD_CALLS "calls"
#define CTL_CMD_HANGUP "hangup"
#define CTL_CMD_EMAIL "email"
#define CTL_CMD_MWI "mwi"

/* The message of "ERR no such call" (hangup); clients also accept it
 * followed by " ID". */
#define CTL_ERR_NO_SUCH_CALL "no such call"
/* States in the rows of "calls". */
#define CTL_CALL_RINGING "ringing"
#define CTL_CALL_ANSWERED "answered"
#define CTL_CALL_HOLD "hold"

/* First line of a reply: "OK", or "ERR" followed by a space and why. */
#define CTL_REPLY_OK "OK"
#define CTL_REPLY_ERR "ERR"
/* Longest request line, newline included (the server drops longer). */
#define CTL_LINE_MAX 512
/* How long the client waits for the whole exchange. */
#define CTL_CLIENT_TIMEOUT_MS 5000
/* ... for "email test": the mail's connect (10 s) and total (60 s)
 * timeouts, and some margin. */
#define CTL_EMAIL_TIMEOUT_MS 90000

#endif
