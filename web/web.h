/*
 * The web administration server: HTTPS (libmicrohttpd) on --https-port
 * with the REST API under /api/v1 and the static admin UI, plus plain
 * HTTP on --http-port that only redirects to HTTPS. Its threads read and
 * write the database on their own connections and reach live state only
 * through the signalling loop's queue (core/pbx/pbx_web.h).
 */
#ifndef HF_WEB_H
#define HF_WEB_H

struct pbx;
struct web_server;

/* Starts the web threads (creating DATA_DIR/web/cert.pem and key.pem on
 * first start). Call on the loop's thread, like the other pbx parts;
 * returns 0 or an errno value and sets *out only on success. */
int web_server_alloc(struct web_server **out, struct pbx *p);
/* Stops the web threads; call on the loop's thread once the loop no
 * longer runs (first thing in pbx_free). NULL is fine. */
void web_server_free(struct web_server *w);

#endif
