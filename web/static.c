/*
 * The static part of the admin UI (web/static/), compiled in so a bare
 * binary serves it: the assembler's .incbin copies each file into
 * .rodata at build time, so there is no generated source and no file
 * read at run time. The paths are relative to the directory the compiler
 * runs in (the top of the tree, where make runs). The Makefile names the
 * files as prerequisites of this object so an edit rebuilds it.
 *
 * No inline script or style anywhere: the Content-Security-Policy
 * (default-src 'self') would block them, and keeping it that strict is
 * the point.
 */
#include <stdlib.h>
#include <string.h>

#include "web_int.h"

/* Defines hf_static_<name>[] and hf_static_<name>_end[] around the bytes
 * of file. */
#define EMBED(name, file)                                                  \
	__asm__(".pushsection .rodata\n"                                   \
		".balign 16\n"                                             \
		".globl hf_static_" #name "\n"                             \
		".hidden hf_static_" #name "\n"                            \
		"hf_static_" #name ":\n"                                   \
		".incbin \"" file "\"\n"                                   \
		".globl hf_static_" #name "_end\n"                         \
		".hidden hf_static_" #name "_end\n"                        \
		"hf_static_" #name "_end:\n"                               \
		".byte 0\n"                                                \
		".popsection\n");                                          \
	extern const char hf_static_##name[], hf_static_##name##_end[]

EMBED(index_html, "web/static/index.html");
EMBED(app_js, "web/static/app.js");
EMBED(style_css, "web/static/style.css");

static void serve(struct web_req *r, const char *ctype, const char *start, const char *end)
{
	size_t len = (size_t)(end - start);
	char *body = malloc(len + 1);
	if (body) {
		memcpy(body, start, len);
		body[len] = '\0';
	}
	web_header(r, "Cache-Control", "no-cache");
	web_body(r, 200, ctype, body, body ? len : 0);
}

void web_static_index(struct web_req *r)
{
	serve(r, "text/html; charset=utf-8", hf_static_index_html, hf_static_index_html_end);
}

void web_static_css(struct web_req *r)
{
	serve(r, "text/css; charset=utf-8", hf_static_style_css, hf_static_style_css_end);
}

void web_static_js(struct web_req *r)
{
	serve(r, "text/javascript; charset=utf-8", hf_static_app_js, hf_static_app_js_end);
}
