#!/usr/bin/env python3
"""
Writes web/openapi.json: the OpenAPI 3 document of the web API, which
web/static.c builds into the binary like the UI files. The API's description lives here as python data (readable, and
checked to be valid JSON by construction); run this after changing the
routes in web/router.c:  python3 web/openapi_gen.py
(python3 web/openapi_gen.py --check: exit 1 when web/openapi.json is not
what this would write, e.g. after a codec was added to the table).

The codec names and list limits are read from core/base/codec_names.[ch],
the one table the server checks against; tests/integration/web.py checks
the served document's enum against GET /api/v1/codecs.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def codec_table():
    """(names in table order, CODEC_LIST_MAX, CODEC_LIST_TEXT_MAX - 1)
    from core/base/codec_names.[ch]."""
    base = os.path.join(HERE, '..', 'core', 'base')
    c = open(os.path.join(base, 'codec_names.c')).read()
    h = open(os.path.join(base, 'codec_names.h')).read()
    table = re.search(r'struct codec_name names\[\] = \{(.*?)\n\};', c, re.S).group(1)
    names = re.findall(r'\.name = "([^"]+)"', table)
    most = int(re.search(r'#define CODEC_LIST_MAX (\d+)', h).group(1))
    text = int(re.search(r'#define CODEC_LIST_TEXT_MAX (\d+)', h).group(1))
    if not names:
        sys.exit('openapi_gen.py: no codec names found in core/base/codec_names.c')
    return names, most, text - 1


CODECS, CODEC_LIST_MAX, CODEC_LIST_LEN = codec_table()
CODEC_LIST_DESC = "comma-separated, preferred first, of %s" % ", ".join(CODECS)

S = lambda **kw: dict(type="string", **kw)  # noqa: E731
I = lambda **kw: dict(type="integer", **kw)  # noqa: E731


def ref(n): return {"$ref": "#/components/schemas/%s" % n}
def resp(desc, schema=None, ctype="application/json"):
    r = {"description": desc}
    if schema is not None:
        r["content"] = {ctype: {"schema": schema}}
    return r
ERR = {"$ref": "#/components/responses/Error"}
def std(ok, admin=False, body=False):
    # every operation can fail with 401 (no or bad credentials), 403 (role
    # or CSRF), and with a body 400/413/415: all share the Error response
    r = dict(ok)
    r["default"] = ERR
    return r
def lst(name, item):
    return {"type": "object", "properties": {name: {"type": "array", "items": ref(item)}}}
def jbody(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}
num = {"name": "number", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{2,15}$"}}
idp = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
userp = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
addrp = {"name": "address", "in": "path", "required": True, "schema": {"type": "string"}}
def q(name, desc, schema=None):
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": schema or {"type": "string"}}

paths = {
 "/api/v1/login": {"post": {"summary": "Log in (starts a browser session)", "security": [], "tags": ["session"],
    "requestBody": jbody(ref("Login")),
    "responses": {"200": resp("Logged in; sets the session cookie", ref("Session")), "400": ERR, "401": ERR, "413": ERR, "415": ERR,
                  "429": resp("Too many failed logins from this address, or for this account (held 2 s after 5 failures, doubling up to 15 min; see Retry-After)", ref("Error"))}}},
 "/api/v1/logout": {"post": {"summary": "End the browser session", "tags": ["session"], "responses": std({"204": resp("Logged out")}, admin=True)}},
 "/api/v1/session": {"get": {"summary": "Who is logged in, and the CSRF token", "tags": ["session"], "responses": std({"200": resp("The session", ref("Session"))})}},
 "/api/v1/password": {"post": {"summary": "Change the caller's own password (ends all of its sessions)", "tags": ["session"],
    "requestBody": jbody({"type": "object", "required": ["current_password", "new_password"], "additionalProperties": False,
                          "properties": {"current_password": S(format="password"), "new_password": S(format="password", minLength=8, maxLength=128, description="at least 8 characters, not the user name, not the current password")}}),
    "description": "Also clears must_change_password: an account with it set (the first start's admin) may call only this, GET /session and POST /logout; anything else answers 403 {\"error\": \"password change required\"}.",
    "responses": std({"204": resp("Changed; log in again"), "429": resp("Too many failed attempts from this address", ref("Error"))})}},
 "/api/v1/openapi.json": {"get": {"summary": "This document", "tags": ["meta"], "responses": std({"200": resp("OpenAPI 3 document", {"type": "object"})})}},
 "/api/v1/extensions": {
   "get": {"summary": "List extensions (role user: its own)", "tags": ["extensions"], "responses": std({"200": resp("Extensions", lst("extensions", "Extension"))})},
   "post": {"summary": "Create an extension; without a password one is generated and returned (GET .../secret shows it again)", "tags": ["extensions"],
            "requestBody": jbody(ref("ExtensionInput")),
            "responses": std({"201": resp("Created", ref("ExtensionCreated")),
                              "409": resp("The number is taken in the numbering plan; error says by what (\"number 1001 is taken by extension 1001\")", ref("Error"))}, body=True)}},
 "/api/v1/extensions/{number}": {
   "parameters": [num],
   "get": {"summary": "One extension", "tags": ["extensions"], "responses": std({"200": resp("The extension", ref("Extension")), "404": ERR}, admin=True)},
   "put": {"summary": "Change an extension (fields left out keep their value)", "tags": ["extensions"], "requestBody": jbody(ref("ExtensionInput")),
           "responses": std({"200": resp("Changed", ref("Extension")), "404": ERR}, body=True)},
   "patch": {"summary": "Same as PUT", "tags": ["extensions"], "requestBody": jbody(ref("ExtensionInput")),
           "responses": std({"200": resp("Changed", ref("Extension")), "404": ERR}, body=True)},
   "delete": {"summary": "Delete an extension and its registrations", "tags": ["extensions"], "responses": std({"204": resp("Deleted"), "404": ERR}, admin=True)}},
 "/api/v1/extensions/{number}/password": {"parameters": [num],
   "post": {"summary": "Generate a new SIP password (returned; GET .../secret shows it again); phones with the old one stop registering", "tags": ["extensions"],
            "responses": std({"200": resp("The new password", {"type": "object", "properties": {"number": {"type": "string"}, "password": {"type": "string"}}}), "404": ERR}, admin=True)}},
 "/api/v1/extensions/{number}/secret": {"parameters": [num],
   "get": {"summary": "The current SIP password (as `hookflash extension show --show-password`); each reveal is logged, never the password", "tags": ["extensions"],
           "responses": std({"200": resp("The password", {"type": "object", "properties": {"number": {"type": "string"}, "password": {"type": "string"}}}), "404": ERR}, admin=True)}},
 "/api/v1/extensions/{number}/phone": {"parameters": [num],
   "get": {"summary": "What a softphone needs: server (sip.external_address when set, else the host of this request), SIP port, transport, user, password, the SIP URI the QR code holds", "tags": ["extensions"],
           "responses": std({"200": resp("Phone setup", ref("PhoneSetup")), "400": ERR, "404": ERR, "503": ERR}, admin=True)}},
 "/api/v1/extensions/{number}/qr.svg": {"parameters": [num],
   "get": {"summary": "The phone setup as a QR code (SVG, libqrencode, level M) holding the RFC 3261 URI sip:USER:PASSWORD@SERVER:PORT;transport=udp", "tags": ["extensions"],
           "responses": std({"200": resp("QR code", S(), ctype="image/svg+xml"), "400": ERR, "404": ERR, "503": ERR}, admin=True)}},
 "/api/v1/timezone": {"get": {"summary": "The system's time zone, the one the daemon, the CLI and the web pages show times in", "tags": ["meta"],
   "responses": std({"200": resp("Time zone", {"type": "object", "properties": {"timezone": S(description="IANA name, e.g. Europe/Berlin"),
                     "utc_offset_s": I(description="offset from UTC now"), "abbreviation": S(description="e.g. CET")}})})}},
 "/api/v1/registrations": {"get": {"summary": "Live registrations (role user: its extension's)", "tags": ["live"],
   "responses": std({"200": resp("Registrations", lst("registrations", "Registration")), "503": ERR})}},
 "/api/v1/calls": {"get": {"summary": "Calls in progress (role user: its extension's)", "tags": ["live"],
   "responses": std({"200": resp("Calls", lst("calls", "Call")), "503": ERR})}},
 "/api/v1/calls/{id}": {"parameters": [idp], "delete": {"summary": "Hang up a call", "tags": ["live"],
   "responses": std({"204": resp("Hung up"), "404": ERR, "503": ERR}, admin=True)}},
 "/api/v1/bans": {"get": {"summary": "Sources banned after failed SIP authentication", "tags": ["live"],
   "responses": std({"200": resp("Bans", lst("bans", "Ban")), "503": ERR}, admin=True)}},
 "/api/v1/bans/{address}": {"parameters": [addrp], "delete": {"summary": "Lift a ban", "tags": ["live"],
   "responses": std({"204": resp("Lifted"), "404": ERR, "503": ERR}, admin=True)}},
 "/api/v1/security": {"get": {"summary": "The Security page: bans (whole addresses, and users refused from an address that has working phones), the last 200 authentication failures (newest first) and the trusted networks (change them with PUT /api/v1/settings, security.trusted_networks)", "tags": ["live"],
   "responses": std({"200": resp("Security", ref("Security")), "503": ERR}, admin=True)}},
 "/api/v1/numbers": {"get": {"summary": "The numbering plan: every dialable number (extensions, feature codes such as *43), shorter first; read-only", "tags": ["numbers"],
   "responses": std({"200": resp("Numbers", lst("numbers", "Number"))})}},
 "/api/v1/cdrs": {"get": {"summary": "Call detail records, newest first (role user: its extension's)", "tags": ["cdrs"],
   "parameters": [q("from", "Start at or after: unix ms, or UTC 2024-05-01 / 2024-05-01T08:00:00Z"),
                  q("to", "Start before (same forms as from)"),
                  q("number", "Caller or callee equals"),
                  q("disposition", "ANSWERED, VOICEMAIL, NO ANSWER, BUSY, FAILED or CANCELLED", {"type": "string", "enum": ["ANSWERED", "VOICEMAIL", "NO ANSWER", "BUSY", "FAILED", "CANCELLED"]}),
                  q("limit", "1-1000 (JSON, default 100) or 1-10000 (CSV, default 10000)", {"type": "integer"}),
                  q("offset", "Records to skip", {"type": "integer", "minimum": 0}),
                  q("format", "json (default) or csv (RFC 4180; cells that look like formulas get a leading ')", {"type": "string", "enum": ["json", "csv"]})],
   "responses": std({"200": {"description": "Records", "content": {"application/json": {"schema": {"type": "object", "properties": {
        "cdrs": {"type": "array", "items": ref("Cdr")}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}}},
        "text/csv": {"schema": {"type": "string"}}}}, "400": ERR}, admin=True)}},
 "/api/v1/status": {"get": {"summary": "Version, uptime, counters, process CPU and memory", "tags": ["live"],
   "responses": std({"200": resp("Status", ref("Status")), "503": ERR}, admin=True)}},
 "/api/v1/logs": {"get": {"summary": "The daemon's recent log lines (the last 2000 kept in memory): the newest limit after since, at or above level", "tags": ["live"],
   "parameters": [q("level", "error, warn, info or debug (default: debug, every kept line)", {"type": "string", "enum": ["error", "warn", "info", "debug"]}),
                  q("since", "seq of the last line already seen (0: from the oldest kept)", {"type": "integer", "minimum": 0}),
                  q("limit", "1-2000 (default 2000)", {"type": "integer", "minimum": 1, "maximum": 2000})],
   "responses": std({"200": resp("Lines, oldest first, and next: the seq to pass as since", ref("LogLines")), "400": ERR}, admin=True)}},
 "/api/v1/logs/stream": {"get": {"summary": "The daemon's log live, as Server-Sent Events", "tags": ["live"],
   "description": "A text/event-stream: event \"log\" carries {\"lines\": [LogLine], \"next\": seq} with the lines written since the last event (checked once a second), at or above level. Without since the stream starts with what is written from now on. Counts against the 32 event streams.",
   "parameters": [q("level", "error, warn, info or debug (default debug)", {"type": "string", "enum": ["error", "warn", "info", "debug"]}),
                  q("since", "seq of the last line already seen", {"type": "integer", "minimum": 0})],
   "responses": std({"200": {"description": "The event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}, "400": ERR, "503": ERR}, admin=True)}},
 "/api/v1/backup": {"get": {"summary": "Download a backup: one tar with MANIFEST (sizes and SHA-256), hookflash.db (copied consistently while running), hookflash.conf, web/cert.pem, web/key.pem", "tags": ["backup"],
   "parameters": [q("voicemail", "1: include voicemail (messages and greetings)", {"type": "string", "enum": ["0", "1"]}),
                  q("prompts", "1: include the prompts as played (DATA_DIR/sounds)", {"type": "string", "enum": ["0", "1"]})],
   "responses": std({"200": resp("The archive (Content-Disposition: attachment; filename=hookflash-backup-YYYYmmdd-HHMMSS.tar)", {"type": "string", "format": "binary"}, "application/x-tar"), "500": ERR}, admin=True)}},
 "/api/v1/backups": {"get": {"summary": "Scheduled backups: the [backup] settings in effect, the newest backup's time, and a staged restore", "tags": ["backup"],
   "responses": std({"200": resp("Backups", ref("Backups")), "503": ERR}, admin=True)}},
 "/api/v1/restore": {"post": {"summary": "Upload a backup (the body, up to 10 MiB) to restore: checked completely, then staged as DATA_DIR/restore-staged.tar; applied with the daemon stopped (`hookflash restore`), never while it runs", "tags": ["backup"],
   "requestBody": {"required": True, "content": {"application/x-tar": {"schema": {"type": "string", "format": "binary"}}}},
   "responses": std({"202": resp("Checked and staged; how says how to apply it", ref("RestoreStaged")),
                     "400": resp("Not a good backup; error says why (a name outside the list, a link, a file not matching MANIFEST, a damaged database); nothing is kept", ref("Error")),
                     "413": ERR}, admin=True)}},
 "/api/v1/metrics": {"get": {"summary": "Prometheus metrics (also at /metrics)", "tags": ["live"],
   "responses": std({"200": resp("Prometheus text format 0.0.4", {"type": "string"}, "text/plain"), "503": ERR}, admin=True)}},
 "/metrics": {"get": {"summary": "Prometheus metrics: hookflash_calls_active, hookflash_calls_total{disposition}, hookflash_registrations, hookflash_sip_messages_total{direction}, hookflash_rtp_packets_relayed_total, hookflash_rtp_packets_lost_total, hookflash_auth_failures_total, hookflash_bans, process_*", "tags": ["live"],
   "responses": std({"200": resp("Prometheus text format 0.0.4", {"type": "string"}, "text/plain"), "503": ERR}, admin=True)}},
 "/api/v1/events": {"get": {"summary": "Live updates as Server-Sent Events (role user: its extension's)", "tags": ["live"],
   "description": "A text/event-stream that stays open. Event \"calls\" carries {\"calls\": [Call]} and event \"registrations\" carries {\"registrations\": [Registration]}, event \"voicemail\" {\"mailboxes\": [{mailbox, new, old}]} (the mailboxes the caller may see): all at once on connect, then each whenever its set changes (a call's state, a contact coming or going; the counting fields duration_s and expires_in alone are not a change). A comment line every 15 s keeps the connection open. A stream opened with a session ends with the session (logout, expiry). At most 32 streams are open at once, the last 4 only for an admin (503 and Retry-After past that), and at most 4 per account (429). Use EventSource in a browser (it sends the session cookie) or curl -N with a token.",
   "responses": std({"200": {"description": "The event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}, "503": ERR})}},
 "/api/v1/stats/calls-per-hour": {"get": {"summary": "Calls started per hour, from the call detail records, the current hour last (role user: its extension's)", "tags": ["cdrs"],
   "parameters": [q("hours", "How many hours back, 1-168 (default 24)", {"type": "integer", "minimum": 1, "maximum": 168, "default": 24})],
   "responses": std({"200": resp("Calls per hour", ref("CallsPerHour")), "400": ERR})}},
 "/api/v1/codecs": {"get": {"summary": "The codecs Hookflash has and what a codec list (an extension's codecs, the calls.codecs setting) may hold", "tags": ["meta"],
    "responses": std({"200": resp("The codec table", ref("Codecs"))})}},
 "/api/v1/settings": {
   "get": {"summary": "The daemon's settings: values, types, ranges, and which apply live or at restart", "tags": ["settings"],
           "responses": std({"200": resp("Settings", ref("Settings")), "503": ERR}, admin=True)},
   "put": {"summary": "Change settings (only those given). Every value is checked first (400 naming the setting, nothing saved); then they are saved in the database (they win over hookflash.conf and the command line at the next start) and the live ones take effect before the answer, without disturbing calls in progress", "tags": ["settings"],
           "requestBody": jbody(ref("SettingsInput")),
           "responses": std({"200": resp("Saved", ref("SettingsSaved")), "503": ERR}, body=True)},
   "patch": {"summary": "Same as PUT", "tags": ["settings"], "requestBody": jbody(ref("SettingsInput")),
           "responses": std({"200": resp("Saved", ref("SettingsSaved")), "503": ERR}, body=True)}},
 "/api/v1/email": {"get": {"summary": "E-mail (voicemail to e-mail): whether an SMTP server is set, messages waiting to be sent or retried, the last failure", "tags": ["settings"],
   "responses": std({"200": resp("Mail status", ref("MailStatus")), "503": ERR}, admin=True)}},
 "/api/v1/email/test": {"post": {"summary": "Send one test e-mail through the email settings (no retries) and answer with what the SMTP server said: 200 accepted, 502 refused or unreachable (the error says why; never the password), 409 no server set", "tags": ["settings"],
   "requestBody": jbody({"type": "object", "required": ["to"], "additionalProperties": False, "properties": {"to": S(maxLength=255, description="an e-mail address")}}),
   "responses": std({"200": resp("Accepted by the SMTP server", {"type": "object", "properties": {"sent": {"type": "boolean"}, "to": S()}}), "409": ERR, "502": ERR, "503": ERR}, admin=True, body=True)}},
 "/api/v1/tokens": {
   "get": {"summary": "API tokens (never the tokens themselves)", "tags": ["tokens"], "responses": std({"200": resp("Tokens", lst("tokens", "Token"))}, admin=True)},
   "post": {"summary": "Create an API token for the caller; the token is returned once", "tags": ["tokens"],
            "requestBody": jbody({"type": "object", "required": ["name"], "additionalProperties": False, "properties": {"name": {"type": "string", "maxLength": 63},
                "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3650, "description": "the token stops working after this many days"},
                "expires_at": {"oneOf": [S(description="YYYY-MM-DD (end of that day, UTC) or YYYY-MM-DDTHH:MM:SSZ"), I(description="unix seconds")],
                               "description": "instead of expires_in_days; absent: never expires"}}}),
            "responses": std({"201": resp("Created", ref("TokenCreated"))}, body=True)}},
 "/api/v1/tokens/{id}": {"parameters": [idp], "delete": {"summary": "Revoke a token", "tags": ["tokens"], "responses": std({"204": resp("Revoked"), "404": ERR}, admin=True)}},
 "/api/v1/users": {
   "get": {"summary": "Web accounts", "tags": ["users"], "responses": std({"200": resp("Users", lst("users", "User"))}, admin=True)},
   "post": {"summary": "Create a web account", "tags": ["users"], "requestBody": jbody(ref("UserInput")),
            "responses": std({"201": resp("Created", ref("User")), "409": ERR}, body=True)}},
 "/api/v1/users/{username}": {"parameters": [userp],
   "put": {"summary": "Change password, role or extension (ends the account's sessions)", "tags": ["users"], "requestBody": jbody(ref("UserChange")),
           "responses": std({"200": resp("Changed", ref("User")), "404": ERR, "409": ERR}, body=True)},
   "patch": {"summary": "Same as PUT", "tags": ["users"], "requestBody": jbody(ref("UserChange")),
           "responses": std({"200": resp("Changed", ref("User")), "404": ERR, "409": ERR}, body=True)},
   "delete": {"summary": "Delete a web account and its tokens", "tags": ["users"], "responses": std({"204": resp("Deleted"), "404": ERR, "409": ERR}, admin=True)}},
}
# Voicemail (web/api_vm.c, api_vm_greet.c): role user only its own mailbox.
mbp = {"name": "mailbox", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{2,15}$"}}
kindp = {"name": "kind", "in": "path", "required": True, "schema": {"type": "string", "enum": ["unavail", "busy", "name"]}}
VM = "/api/v1/voicemail/{mailbox}"
greeting_upload = {"summary": "Upload a greeting: WAV, Ogg (Vorbis or Opus), FLAC or MP3 as the raw request body (any Content-Type), at most 10 MiB and 5 minutes; stored as 8 kHz 16-bit mono WAV (DATA_DIR/voicemail/<mailbox>/greet-<kind>.wav). The old greeting is replaced only when the new one converted; an announced body over 10 MiB is refused before it is read (send Expect: 100-continue to be told without sending it)", "tags": ["voicemail"],
   "requestBody": {"required": True, "content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}, "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
   "responses": std({"201": resp("Stored", ref("Greeting")), "400": resp("Empty, silent or longer than 5 minutes", ref("Error")), "404": ERR,
                     "413": resp("Larger than 10 MiB", ref("Error")), "415": resp("Not an audio file libsndfile reads", ref("Error"))})}
paths.update({
 "/api/v1/voicemail": {"get": {"summary": "Mailboxes the caller may see (admin: every extension's; role user: its own) with their message counts", "tags": ["voicemail"],
   "responses": std({"200": resp("Mailboxes", lst("mailboxes", "Mailbox"))})}},
 VM + "/messages": {"parameters": [mbp], "get": {"summary": "A mailbox's messages, new first, oldest first within a folder, and which greetings are recorded", "tags": ["voicemail"],
   "responses": std({"200": resp("Messages", ref("VoicemailMessages")), "403": ERR, "404": ERR})}},
 VM + "/messages/{id}": {"parameters": [mbp, idp],
   "patch": {"summary": "Move a message: folder \"old\" marks it listened (the phone's lamp follows), \"new\" unlistened", "tags": ["voicemail"],
             "requestBody": jbody({"type": "object", "required": ["folder"], "additionalProperties": False, "properties": {"folder": S(enum=["new", "old"])}}),
             "responses": std({"200": resp("Moved", ref("VoicemailMessage")), "404": ERR}, body=True)},
   "put": {"summary": "Same as PATCH", "tags": ["voicemail"],
             "requestBody": jbody({"type": "object", "required": ["folder"], "additionalProperties": False, "properties": {"folder": S(enum=["new", "old"])}}),
             "responses": std({"200": resp("Moved", ref("VoicemailMessage")), "404": ERR}, body=True)},
   "delete": {"summary": "Delete a message and its audio file", "tags": ["voicemail"], "responses": std({"204": resp("Deleted"), "404": ERR})}},
 VM + "/messages/{id}/audio": {"parameters": [mbp, idp], "get": {"summary": "The message's audio (WAV), streamed; honours one Range: bytes=a-b, a-, -n", "tags": ["voicemail"],
   "parameters": [{"name": "Range", "in": "header", "required": False, "schema": {"type": "string", "example": "bytes=0-1023"}}],
   "responses": std({"200": resp("The whole file", {"type": "string", "format": "binary"}, "audio/wav"),
                     "206": resp("The range asked for (Content-Range: bytes a-b/size)", {"type": "string", "format": "binary"}, "audio/wav"),
                     "404": ERR, "416": resp("Range not satisfiable (Content-Range: bytes */size)", ref("Error"))})}},
 VM + "/greetings/{kind}": {"parameters": [mbp, kindp], "post": greeting_upload, "put": dict(greeting_upload, summary="Same as POST"),
   "delete": {"summary": "Remove a greeting (callers then hear the default)", "tags": ["voicemail"], "responses": std({"204": resp("Removed"), "404": ERR})}},
})
legs = {"type": "object", "properties": {k: I() for k in ["packets_received", "packets_sent", "bytes_received", "bytes_sent", "lost"]}}
legs["properties"]["jitter_ms"] = {"type": "number"}
ext_props = {"number": S(pattern="^[0-9]{2,15}$"), "name": S(maxLength=127), "enabled": {"type": "boolean"},
             "contact": S(description="static contact sip:/sips: URI, empty for none"),
             "trust": S(description="comma-separated IPv4/IPv6 addresses or networks trusted as this extension without a password, for calls to internal numbers only (extensions, voicemail, apps; never a trunk: UDP sources can be forged) and message waiting; REGISTER always needs the password"),
             "max_calls": I(minimum=0, maximum=1000, description="0: the default"),
             "codecs": S(maxLength=CODEC_LIST_LEN, description="allowed codecs, %s (any case, each once, no blanks); empty: the system's [calls] codecs" % CODEC_LIST_DESC),
             "srtp": {"type": "string", "enum": ["off", "optional", "required"], "description": "SRTP policy of this extension's calls (SDES)"},
             "vm_enabled": {"type": "boolean", "description": "the extension's voicemail box takes messages"},
             "vm_email": S(maxLength=255, description="address new voicemail is e-mailed to; empty: none"),
             "vm_email_delete": {"type": "boolean", "description": "delete a message once e-mailed"},
             "vm_max_messages": I(minimum=0, maximum=10000, description="messages the mailbox keeps before it says it is full; 0: the default (100)"),
             "vm_max_seconds": I(minimum=0, maximum=360000, description="recorded seconds the mailbox keeps; 0: the default (3600)")}
# Call handling (migration 6): the rules are db_ext_validate's (db/ext.c),
# destinations are core/base/dest.h's kind:id.
EXT_DEST = S(maxLength=63, pattern="^(hangup|[a-z]{1,15}:[A-Za-z0-9*#+._-]{1,47})?$")
EXT_FWD = S(maxLength=31, pattern="^[0-9*#+]{0,31}$")
ext_props.update({
    "ring_time": I(minimum=0, maximum=300, description="seconds its phones ring: 0 for the system default (25), else 5 to 300"),
    "no_answer": dict(EXT_DEST, description="where a call goes when nobody answers: kind:id (ext:1002, vm:1001) or hangup; empty: the default, its voicemail"),
    "busy": dict(EXT_DEST, description="where a call goes when the extension is busy; empty: its voicemail"),
    "unavailable": dict(EXT_DEST, description="where a call goes when no phone of it is registered; empty: its voicemail"),
    "forward_all": dict(EXT_FWD, description="forward every call to this number; empty: off; not the extension itself"),
    "forward_busy": dict(EXT_FWD, description="forward calls when busy to this number; empty: off"),
    "forward_no_answer": dict(EXT_FWD, description="forward unanswered calls to this number; empty: off"),
    "dnd": {"type": "boolean", "description": "do not disturb: its phones are not rung"},
})
ext_out = dict(ext_props); ext_out["vm_pin_set"] = {"type": "boolean"}; ext_out["created_at"] = I(description="unix seconds")
ext_in = dict(ext_props); ext_in["vm_pin"] = S(pattern="^[0-9]{0,15}$", description="voicemail PIN, write-only, stored hashed: at least [voicemail] pin_min_length digits (6), not one digit repeated, a run, a short pattern repeated or the extension's number (400 naming vm_pin says which)"); ext_in["password"] = S(minLength=8, maxLength=127, description="SIP password, write-only")
ext_created = dict(ext_out); ext_created["password"] = S(description="only when generated (GET .../secret shows it again)")
ext_created["vm_pin"] = S(description="only when generated (no vm_pin given): shown this once")
# The settings, as core/base/conf.c's table has them (section.key); the
# server checks against that table, this is their description.
SETTINGS = [
 ("general.log_level", "level", "live"), ("sip.bind", "string", "restart"), ("sip.udp_port", "integer", "restart"),
 ("sip.tcp_port", "integer", "restart"), ("sip.domain", "string", "restart"), ("sip.external_address", "string", "restart"),
 ("sip.trace", "boolean", "live"), ("rtp.ports", "string", "restart"), ("http.port", "integer", "restart"),
 ("http.https_port", "integer", "restart"), ("registrar.min_expires", "integer", "live"), ("registrar.max_expires", "integer", "live"),
 ("registrar.default_expires", "integer", "live"), ("security.nonce_ttl", "integer", "restart"),
 ("security.digest_algorithms", "string", "live"), ("security.auth_fail_limit", "integer", "live"),
 ("security.auth_fail_window", "integer", "live"), ("security.ban_time", "integer", "live"), ("security.trusted_networks", "string", "live"), ("security.max_transactions_per_source", "integer", "live"), ("security.max_transactions", "integer", "live"), ("calls.max_calls", "integer", "live"),
 ("calls.extension_max_calls", "integer", "live"), ("calls.no_answer_timeout", "integer", "live"), ("calls.rtp_timeout", "integer", "restart"),
 ("calls.session_expires", "integer", "live"), ("calls.media_coalesce_us", "integer", "restart"),
 ("calls.codecs", "string", "live"), ("calls.sounds_dir", "string", "live"), ("calls.ringback", "boolean", "live"), ("calls.opus_low_cpu", "boolean", "restart"), ("calls.opus_low_cpu_above", "integer", "restart"), ("calls.media_workers", "integer", "restart"),
 ("voicemail.pin_min_length", "integer", "live"), ("voicemail.pin_lock_after", "integer", "live"), ("voicemail.operator", "string", "live"), ("voicemail.pin_lock_seconds", "integer", "live"),
 ("tcp.idle_timeout", "integer", "restart"), ("tcp.max_connections", "integer", "restart"),
 ("tcp.max_connections_per_address", "integer", "restart"), ("tcp.first_message_timeout", "integer", "restart"),
 ("email.smtp_url", "string", "live"), ("email.from", "string", "live"), ("email.username", "string", "live"),
 ("email.password", "secret", "live"), ("email.tls", "tls", "live"),
 ("backup.schedule", "string", "live"), ("backup.keep", "integer", "live"), ("backup.dir", "string", "live"), ("backup.voicemail", "boolean", "live")]
def setting_type(t):
    return {"integer": I(), "boolean": {"type": "boolean"}, "level": S(enum=["error", "warn", "info", "debug"]),
            "tls": S(enum=["off", "try", "require"]), "secret": S(format="password")}.get(t, S())
SETTING_DESC = {"email.password": "write-only: GET shows \"\" (schema is_set says whether one is saved); \"\" in PUT keeps the saved one; ",
                "email.smtp_url": "smtp://host[:port] or smtps://host[:port], no credentials in it; empty: no e-mail; ",
                "calls.codecs": "a codec list, %s (any case, each once, no blanks); " % CODEC_LIST_DESC}
settings_values = {"type": "object", "properties": {n: dict(setting_type(t), description=SETTING_DESC.get(n, "") + "applies " + ("live" if a == "live" else "at the next start")) for n, t, a in SETTINGS}}
settings_input = {"type": "object", "additionalProperties": False, "minProperties": 0, "properties": settings_values["properties"]}
setting_desc = {"type": "object", "properties": {"type": S(enum=["integer", "boolean", "level", "choice", "string"]), "apply": S(enum=["live", "restart"]),
                "secret": {"type": "boolean", "description": "a password: its value is never returned"}, "is_set": {"type": "boolean", "description": "secrets: whether one is saved"},
                "description": S(), "min": I(), "max": I(), "choices": {"type": "array", "items": S()},
                "group": S(enum=["basic", "advanced"], description="the settings page's tab"), "label": S(description="in plain words"),
                "source": S(enum=["web", "file", "default"], description="where the value comes from: saved by the web, hookflash.conf or a command-line flag, built in"),
                "running": {"description": "restart settings: the value in use until the restart"}}}
settings_schema = {"type": "object", "properties": {
    "settings": dict(settings_values, description="values: saved ones (used from the next start for restart settings), else those in effect"),
    "schema": {"type": "object", "additionalProperties": setting_desc},
    "pending_restart": {"type": "array", "items": S(), "description": "settings whose saved value is not the running one yet"}}}
settings_saved = {"allOf": [settings_schema, {"type": "object", "properties": {
    "saved": {"type": "array", "items": S()}, "applied": {"type": "array", "items": S(), "description": "in effect already"},
    "restart_required": {"type": "array", "items": S(), "description": "in effect after a restart"}}}]}
schemas = {
 "Error": {"type": "object", "required": ["error"], "properties": {"error": S(), "field": S(description="the input field at fault")}},
 "Login": {"type": "object", "required": ["username", "password"], "additionalProperties": False, "properties": {"username": S(), "password": S(format="password")}},
 "Session": {"type": "object", "properties": {"username": S(), "role": S(enum=["admin", "user"]), "extension": {"type": "string", "nullable": True},
             "auth": S(enum=["session", "token"]), "csrf_token": S(description="send as X-CSRF-Token on POST/PUT/PATCH/DELETE (sessions only)"),
             "version": S(description="Hookflash's version"),
             "must_change_password": {"type": "boolean", "description": "true: only POST /password (and GET /session, POST /logout) work until the password is changed"}}},
 "Extension": {"type": "object", "properties": ext_out},
 "ExtensionCreated": {"type": "object", "properties": ext_created},
 "ExtensionInput": {"type": "object", "additionalProperties": False, "properties": ext_in},
 "PhoneSetup": {"type": "object", "properties": {"server": S(), "port": I(), "transport": S(enum=["udp"]), "user": S(), "password": S(),
                "uri": S(description="sip:USER:PASSWORD@SERVER:PORT;transport=udp (the QR code's text)"), "qr": S(description="the QR code's URL")}},
 "Registration": {"type": "object", "properties": {"extension": S(), "contact": S(), "source": S(), "expires_in": I(), "user_agent": S()}},
 "Call": {"type": "object", "properties": {"id": I(), "caller": S(), "callee": S(), "state": S(enum=["ringing", "answered", "hold"]), "duration_s": I(), "codec": S()}},
 "Ban": {"type": "object", "properties": {"address": S(), "user": S(description="the user whose failures started it (\"\" unknown)"),
          "scope": S(enum=["address", "user"], description="address: everything from it is ignored; user: only that user is refused from it"),
          "failures": I(), "banned_for_s": I()}},
 "Security": {"type": "object", "properties": {
     "bans": {"type": "array", "items": {"type": "object", "properties": {"address": S(), "user": S(), "scope": S(enum=["address", "user"]),
              "reason": S(), "failures": I(), "since": S(format="date-time"), "until": S(format="date-time")}}},
     "failures": {"type": "array", "items": {"type": "object", "properties": {"time": S(format="date-time"), "address": S(), "user": S(), "reason": S()}}},
     "trusted_networks": S(description="security.trusted_networks: addresses never banned")}},
 "Cdr": {"type": "object", "properties": {"id": I(), "call_id": S(), "caller": S(), "caller_name": S(), "callee": S(), "callee_name": S(),
          "start_ms": I(), "answer_ms": {"type": "integer", "nullable": True}, "end_ms": I(), "disposition": S(), "duration_s": I(), "billsec": I(),
          "hangup_status": I(), "hangup_cause": S(), "hangup_side": S(), "codec": S(), "caller_leg": legs, "callee_leg": legs,
          "path": S(description="the destinations of the numbering plan the call went through, in order, ' > ' between them: ext:1001, app:ivr > ext:1003; empty for records from before it was kept")}},
 "Number": {"type": "object", "properties": {"number": S(description="what is dialled: 1001, *43"), "dest": S(description="where a call goes, kind:id: ext:1001, app:echo"),
            "what": S(description="its owner in words: extension 1001, feature code: echo test")}},
 "Status": {"type": "object", "properties": {"version": S(), "uptime_s": I(), "started_at": I(), "extensions": I(), "registrations": I(), "calls": I(),
            "calls_total": I(), "calls_answered": I(), "bans": I(), "auth_failures": I(), "reloads": I(),
            "sip": {"type": "object", "properties": {k: I() for k in ["received", "sent", "invalid", "transactions", "tcp_connections"]}},
            "rtp": {"type": "object", "properties": {"packets_relayed": I(), "packets_lost": I()}},
            "process": {"type": "object", "properties": {"cpu_seconds": {"type": "number"}, "cpu_percent_avg": {"type": "number"}, "rss_bytes": I(), "threads": I(),
                        "cpu_percent": {"type": ["number", "null"], "description": "over cpu_interval_s, the time since the previous status request (null when under 0.2 s)"},
                        "cpu_interval_s": {"type": "number"}}},
            "threads": {"type": "array", "items": {"type": "object", "properties": {"tid": I(), "name": S(), "role": S(description="signalling loop, store (database writer), jobs (e-mail, blocking work), media worker, scheduled backup, web and other"), "cpu_seconds": {"type": "number"}}}},
            "disk": {"type": "object", "properties": {"path": S(), "free_bytes": I(), "total_bytes": I()}},
            "mailer": {"type": "object", "properties": {"configured": {"type": "boolean"}, "pending": I(), "last_error": S()}},
            "failed_registrations": {"type": "array", "description": "recent authentication failures, newest first, from the kept log lines", "items": {"type": "object", "properties": {"time": I(description="unix ms"), "text": S()}}},
            "failed_calls": {"type": "array", "description": "recent calls not answered (CDRs), newest first", "items": {"type": "object", "properties": {
                "id": I(), "start_ms": I(), "caller": S(), "callee": S(), "disposition": S(), "hangup_status": I(), "hangup_cause": S()}}}}},
 "LogLine": {"type": "object", "properties": {"seq": I(), "time": I(description="unix ms"), "level": S(enum=["error", "warn", "info", "debug"]), "tag": S(), "text": S()}},
 "LogLines": {"type": "object", "properties": {"lines": {"type": "array", "items": ref("LogLine")}, "next": I()}},
 "RestoreStaged": {"type": "object", "properties": {"staged": S(), "command": S(description="the command that applies it"), "how": S()}},
 "Backups": {"type": "object", "properties": {"schedule": S(), "keep": I(), "dir": S(), "voicemail": {"type": "boolean"}, "newest": I(description="unix s; 0: none"),
             "restore": {"oneOf": [ref("RestoreStaged"), {"type": "null"}]}}},
 "CallsPerHour": {"type": "object", "properties": {"from_ms": I(description="start of the first hour, unix ms"), "to_ms": I(description="end of the last (current) hour"),
                  "total": I(), "hours": {"type": "array", "items": {"type": "object", "properties": {"start_ms": I(), "calls": I(), "answered": I()}}}}},
 "CodecName": S(enum=CODECS, description="a codec name as in SDP (lists take any case)"),
 "Codecs": {"type": "object", "properties": {
     "codecs": {"type": "array", "items": {"type": "object", "properties": {
         "name": ref("CodecName"), "clock": I(description="RTP clock rate"), "wideband": {"type": "boolean"},
         "min_ptime": I(description="packet times (ms): multiples of 10 from min_ptime"), "max_ptime": I(description="to max_ptime")}}},
     "max_codecs": I(description="names a codec list may hold", enum=[CODEC_LIST_MAX]),
     "max_length": I(description="bytes a codec list may hold", enum=[CODEC_LIST_LEN]),
     "syntax": S(description="what a codec list is, for help texts")}},
 "Settings": settings_schema,
 "MailStatus": {"type": "object", "properties": {"configured": {"type": "boolean"}, "pending": I(description="messages queued, being sent or waiting for a retry"),
                "last_error": S(description="why the last attempt failed; empty after a success"), "last_error_at": {"type": "integer", "nullable": True, "description": "unix seconds"}}},
 "SettingsSaved": settings_saved,
 "SettingsInput": settings_input,
 "Token": {"type": "object", "properties": {"id": I(), "name": S(), "username": S(), "created_at": I(), "last_used_at": {"type": "integer", "nullable": True},
           "expires_at": {"type": "integer", "nullable": True, "description": "unix seconds; null: never (an expired token is answered 401 \"token expired\")"}, "expired": {"type": "boolean"}}},
 "TokenCreated": {"type": "object", "properties": {"id": I(), "name": S(), "username": S(), "expires_at": {"type": "integer", "nullable": True}, "token": S(description="send as Authorization: Bearer; shown this once")}},
 "User": {"type": "object", "properties": {"username": S(), "role": S(enum=["admin", "user"]), "extension": {"type": "string", "nullable": True}, "created_at": I(),
          "must_change_password": {"type": "boolean"}}},
 "UserInput": {"type": "object", "required": ["username", "password"], "additionalProperties": False, "properties": {"username": S(maxLength=63), "password": S(minLength=8, maxLength=128),
               "role": S(enum=["admin", "user"], default="user"), "extension": {"type": "string", "nullable": True},
               "must_change_password": {"type": "boolean", "default": False, "description": "the account must choose its own password at its first login"}}},
 "UserChange": {"type": "object", "additionalProperties": False, "properties": {"password": S(minLength=8, maxLength=128),
               "role": S(enum=["admin", "user"]), "extension": {"type": "string", "nullable": True},
               "must_change_password": {"type": "boolean", "description": "the account must choose its own password at its next login"}}},
}
schemas.update({
 "Mailbox": {"type": "object", "properties": {"mailbox": S(), "name": S(), "new": I(), "old": I()}},
 "VoicemailMessage": {"type": "object", "properties": {"id": I(), "folder": S(enum=["new", "old"]), "caller": S(), "caller_name": S(),
   "received_at": I(description="unix seconds"), "duration_ms": I(), "audio_url": S(description="GET it for the audio (the session cookie or a bearer token authenticates)")}},
 "VoicemailMessages": {"type": "object", "properties": {"mailbox": S(), "new": I(), "old": I(),
   "greetings": {"type": "object", "properties": {k: {"type": "boolean"} for k in ("unavail", "busy", "name")}},
   "messages": {"type": "array", "items": ref("VoicemailMessage")}}},
 "Greeting": {"type": "object", "properties": {"mailbox": S(), "kind": S(enum=["unavail", "busy", "name"]), "duration_ms": I(), "sample_rate": I()}},
})
doc = {
 "openapi": "3.0.3",
 "info": {"title": "Hookflash administration API", "version": "1",
          "description": "JSON over HTTPS. Authenticate with a session cookie from POST /api/v1/login (then send X-CSRF-Token on every POST, PUT, PATCH and DELETE) or with Authorization: Bearer and a token from POST /api/v1/tokens. Errors are {\"error\": ..., \"field\": ...}. Request bodies are at most 64 KiB (greeting uploads 10 MiB). Role user sees only its own extension, registrations, calls and records. Error statuses: 400 invalid input (field names the input), 401 not authenticated, 403 role or CSRF token, 404 unknown, 405 wrong method, 409 conflict, 413 body over 64 KiB (uploads 10 MiB), 415 body not application/json (uploads: not audio), 416 byte range not satisfiable, 429 too many failed logins (per address or per account) or event streams, 503 the PBX core did not answer in time."},
 "servers": [{"url": "/"}],
 "security": [{"session": [], "csrf": []}, {"bearer": []}],
 "paths": paths,
 "components": {
   "securitySchemes": {
     "session": {"type": "apiKey", "in": "cookie", "name": "__Host-hfsid"},
     "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
     "bearer": {"type": "http", "scheme": "bearer"}},
   "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": ref("Error")}}}},
   "schemas": schemas}}

def fmt(v, ind=0, width=118):
    flat = json.dumps(v, ensure_ascii=True, separators=(", ", ": "))
    if len(flat) + ind <= width or not isinstance(v, (dict, list)) or not v:
        return [" " * ind + flat]
    if isinstance(v, dict):
        items = list(v.items())
        out = [" " * ind + "{"]
        for i, (k, x) in enumerate(items):
            sub = fmt(x, ind + 1, width)
            sub[0] = " " * (ind + 1) + json.dumps(k) + ": " + sub[0].lstrip()
            if i < len(items) - 1:
                sub[-1] += ","
            out += sub
        out.append(" " * ind + "}")
        return out
    out = [" " * ind + "["]
    for i, x in enumerate(v):
        sub = fmt(x, ind + 1, width)
        if i < len(v) - 1:
            sub[-1] += ","
        out += sub
    out.append(" " * ind + "]")
    return out
text = '\n'.join(fmt(doc)) + '\n'
path = os.path.join(HERE, 'openapi.json')
if sys.argv[1:] == ['--check']:
    if open(path).read() != text:
        sys.exit('web/openapi.json is out of date: run python3 web/openapi_gen.py')
else:
    open(path, 'w').write(text)
