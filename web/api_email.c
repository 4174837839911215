/*
 * E-mail over the web (admin only): POST /api/v1/email/test {"to": ADDR}
 * sends one test message through the [email] settings (the FreePBX
 * "send test e-mail") and answers with what the SMTP server said, so an
 * administrator can check the set-up from the settings page; GET
 * /api/v1/email tells whether a server is set, how many messages wait and
 * the last failure (the mailer keeps it for this page). The sending runs
 * on the PBX's mail worker; this thread only waits for its outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/base/log.h"
#include "../core/pbx/pbx_web.h"
#include "web_int.h"

void web_api_email_test(struct web_req *r)
{
	static const char *const allowed[] = { "to", NULL };
	json_t *body = web_body_object(r, allowed);
	if (!body)
		return;
	char to[256];
	int got = web_field_str(r, body, "to", to, sizeof(to), true);
	json_decref(body);
	if (got < 0)
		return;
	for (const char *p = to; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			web_error(r, 400, "to: an e-mail address such as admin@example.com", "to");
			return;
		}
	char why[300];
	log_info(WEB_TAG, "%s asked for a test e-mail to %s", r->auth.username, to);
	int err = pbx_web_email_test(r->w->pw, to, why, sizeof(why));
	if (!err) {
		json_t *o = json_object();
		json_object_set_new(o, "sent", json_true());
		json_object_set_new(o, "to", web_jstr(to));
		web_json(r, 200, o);
		return;
	}
	char msg[400];
	if (why[0]) { /* the SMTP exchange failed: the server we talk to is at fault */
		snprintf(msg, sizeof(msg), "e-mail not sent: %s", why);
		web_error(r, 502, msg, NULL);
	} else if (err == EINVAL) {
		web_error(r, 400, "to: an e-mail address such as admin@example.com", "to");
	} else if (err == ENOTCONN) {
		web_error(r, 409, "no SMTP server set: set email.smtp_url first", "email.smtp_url");
	} else {
		web_loop_error(r, err);
	}
}

void web_api_email_status(struct web_req *r)
{
	struct pbx_web_mail st;
	int err = pbx_web_email_status(r->w->pw, &st);
	if (err) {
		web_loop_error(r, err);
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "configured", json_boolean(st.configured));
	json_object_set_new(o, "pending", json_integer(st.pending));
	json_object_set_new(o, "last_error", web_jstr(st.last_error));
	json_object_set_new(o, "last_error_at", st.last_error_at ? json_integer(st.last_error_at) : json_null());
	web_json(r, 200, o);
}
