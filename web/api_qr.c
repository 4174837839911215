/*
 * A phone's setup card (admin only): GET /api/v1/extensions/{n}/phone
 * gives what a person types into a softphone -- server, SIP port,
 * transport, user, password -- and GET /api/v1/extensions/{n}/qr.svg the
 * same as a QR code, drawn from libqrencode's modules as one SVG path.
 * The server is sip.external_address when one is set (the address phones
 * behind NAT must use), else the host the browser used to reach this page
 * (Host header): an admin on the office LAN gets the LAN address phones
 * also reach. The QR holds one RFC 3261 SIP URI with the password in its
 * userinfo, "sip:2101:secret@pbx.example.com:5060;transport=udp": there is
 * no cross-vendor standard for account QR codes (Linphone and Zoiper scan
 * their own provisioning URLs), and this is the one text every QR reader
 * shows and every SIP parser splits into user, password, host and port.
 * Both answers carry the password, so they are admin-only and no-store.
 */
#include <errno.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/base/conf.h"
#include "../core/base/log.h"
#include "../core/base/sbuf.h"
#include "../core/pbx/pbx_web.h"
#include "web_int.h"

#define QR_QUIET 4 /* modules of white around the code, as ISO/IEC 18004 asks */
#define QR_PX 6    /* size of a module in the SVG's own pixels */

struct phone_setup {
	char server[256];
	unsigned port;
	char user[DB_EXT_NUMBER_MAX];
	char password[sizeof(((struct db_ext *)0)->password)];
	char uri[600];
};

/* RFC 3261 25.1 password: unreserved and a few marks as they are, the
 * rest %XX. */
static void uri_escape(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.!~*'()&=+$,", c))
			sbuf_add(b, &c, 1);
		else
			sbuf_printf(b, "%%%02X", c);
	}
}

/* Fills ps for extension r->arg[0]; false having answered. */
static bool setup_get(struct web_req *r, struct phone_setup *ps)
{
	memset(ps, 0, sizeof(*ps));
	struct conf c;
	int err = pbx_web_conf(r->w->pw, &c);
	if (err) {
		web_loop_error(r, err);
		return false;
	}
	if (c.external_addr[0])
		snprintf(ps->server, sizeof(ps->server), "%s", c.external_addr);
	else if (!web_host_from(web_in_header(r, "Host"), ps->server, sizeof(ps->server))) {
		web_error(r, 400, "cannot tell the server's address from this request: set "
			  "sip.external_address", NULL);
		return false;
	}
	ps->port = c.sip_udp_port;
	struct db *db = web_db(r);
	if (!db)
		return false;
	struct db_ext e;
	err = db_ext_get(db, r->arg[0], &e);
	if (err) {
		web_db_error(r, err, "extension");
		return false;
	}
	snprintf(ps->user, sizeof(ps->user), "%s", e.number);
	memcpy(ps->password, e.password, sizeof(ps->password));
	explicit_bzero(&e, sizeof(e));
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b, "sip:%s:", ps->user);
	uri_escape(&b, ps->password);
	sbuf_printf(&b, "@%s:%u;transport=udp", ps->server, ps->port);
	bool ok = !b.err && b.p && b.len < sizeof(ps->uri);
	if (ok)
		memcpy(ps->uri, b.p, b.len + 1);
	if (b.p)
		explicit_bzero(b.p, b.cap);
	sbuf_free(&b);
	if (!ok) {
		explicit_bzero(ps, sizeof(*ps));
		web_error(r, 500, "the setup URI does not fit", NULL);
	}
	return ok;
}

void web_api_ext_phone(struct web_req *r)
{
	struct phone_setup ps;
	if (!setup_get(r, &ps))
		return;
	json_t *o = json_object();
	json_object_set_new(o, "server", web_jstr(ps.server));
	json_object_set_new(o, "port", json_integer(ps.port));
	json_object_set_new(o, "transport", json_string("udp"));
	json_object_set_new(o, "user", web_jstr(ps.user));
	json_object_set_new(o, "password", web_jstr(ps.password));
	json_object_set_new(o, "uri", web_jstr(ps.uri));
	json_object_set_new(o, "qr", json_sprintf("/api/v1/extensions/%s/qr.svg", ps.user));
	log_info(WEB_TAG, "extension %s: phone setup (with its password) shown to %s", ps.user,
		 r->auth.username);
	explicit_bzero(&ps, sizeof(ps));
	web_json(r, 200, o);
}

int web_qr_svg(const char *text, char **out, size_t *len)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		return errno ? errno : EINVAL;
	int w = q->width, side = (w + 2 * QR_QUIET) * QR_PX;
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b,
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		    "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">"
		    "<title>QR code</title>"
		    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		    side, side, side, side, side, side);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (q->data[y * w + x] & 1) /* bit 0: a dark module */
				sbuf_printf(&b, "M%d %dh%dv%dh-%dz", (x + QR_QUIET) * QR_PX,
					    (y + QR_QUIET) * QR_PX, QR_PX, QR_PX, QR_PX);
	sbuf_printf(&b, "\"/></svg>\n");
	QRcode_free(q);
	if (b.err || !b.p) {
		sbuf_free(&b);
		return ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

void web_api_ext_qr(struct web_req *r)
{
	struct phone_setup ps;
	if (!setup_get(r, &ps))
		return;
	char *svg = NULL;
	size_t len = 0;
	int err = web_qr_svg(ps.uri, &svg, &len);
	explicit_bzero(&ps, sizeof(ps));
	if (err) {
		web_error(r, 500, "cannot make the QR code", NULL);
		return;
	}
	web_body(r, 200, "image/svg+xml", svg, len);
}
