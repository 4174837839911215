/*
 * The web administration server: HTTPS (libmicrohttpd) on --https-port
 * with the REST API under /api/v1 and the static admin UI, plus plain
 * HTTP on --http-port that only redirects to HTTPS. Its threads read and
 * write the database on their own connections and reach live state only
 * through the signalling loop's queue (core/pbx/pbx_web.h).
 */
#ifndef HF_WEB_H
#define HF_WEB_H

struct conf;
struct pbx_web;
struct web_server;

/* What the web server is given by whoever wires the daemon together
 * (core/pbx), and nothing more. */
struct web_deps {
	/* the settings of this start, copied: addresses, ports, the domain
	 * and the data directory, which change only with a restart */
	const struct conf *conf;
	const char *db_path;   /* each web thread opens its own connection */
	struct pbx_web *pw;    /* the queue to the signalling loop; lent,
				  the caller frees it after web_server_free */
};

/* Starts the web threads (creating DATA_DIR/web/cert.pem and key.pem on
 * first start). Call on the loop's thread, like the other pbx parts;
 * returns 0 or an errno value and sets *out only on success. */
int web_server_alloc(struct web_server **out, const struct web_deps *deps);
/* Stops the web threads; call on the loop's thread once the loop no
 * longer runs (first thing in pbx_free). NULL is fine. */
void web_server_free(struct web_server *w);

#endif
