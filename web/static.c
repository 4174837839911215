/*
 * The static part of the admin UI, compiled in so a bare binary serves
 * it. For now a placeholder page that says where the API is; the admin
 * pages come with the next issue. No inline script or style anywhere:
 * the Content-Security-Policy (default-src 'self') would block them, and
 * keeping it that strict is the point.
 */
#include <string.h>

#include "web_int.h"

static const char index_html[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>Hookflash PBX</title>\n"
	"<link rel=\"stylesheet\" href=\"/style.css\">\n"
	"</head>\n"
	"<body>\n"
	"<main>\n"
	"<h1>Hookflash PBX</h1>\n"
	"<p>The administration pages are on their way. Meanwhile the REST API is\n"
	"at <code>/api/v1</code>: log in with <code>POST /api/v1/login</code>, then\n"
	"read its description at <code>/api/v1/openapi.json</code>.</p>\n"
	"</main>\n"
	"</body>\n"
	"</html>\n";

static const char style_css[] =
	"body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }\n"
	"main { max-width: 40rem; margin: 4rem auto; padding: 2rem; background: #fff;\n"
	"       border-radius: 8px; box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }\n"
	"h1 { margin-top: 0; font-size: 1.6rem; }\n"
	"code { background: #eef0f4; padding: 0 .25em; border-radius: 3px; }\n";

void web_static_index(struct web_req *r)
{
	web_body(r, 200, "text/html; charset=utf-8", strdup(index_html), sizeof(index_html) - 1);
}

void web_static_css(struct web_req *r)
{
	web_body(r, 200, "text/css; charset=utf-8", strdup(style_css), sizeof(style_css) - 1);
}
