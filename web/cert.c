/*
 * The HTTPS certificate. On first start there is none, and the admin UI
 * must still be encrypted from the first click, so we make a self-signed
 * one (P-256 ECDSA, five years) naming everything the box may be reached
 * by: its host name, the configured domain, its bind addresses (or every
 * interface address when bound to all), localhost and the loopback
 * addresses. The files are DATA_DIR/web/cert.pem and key.pem; an admin
 * replaces them with a real certificate and restarts. Generation uses
 * OpenSSL; libmicrohttpd (GnuTLS) only reads the PEM text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/base/log.h"
#include "../core/base/sbuf.h"
#include "web_int.h"

#define PEM_MAX (1024 * 1024)
#define VALID_DAYS (5 * 365)

static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < 254 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

static void san_add(struct sbuf *b, const char *kind, const char *v)
{
	char item[300];
	snprintf(item, sizeof(item), "%s:%s", kind, v);
	/* skip duplicates: the list is short */
	char *hay = strndup(b->p ? b->p : "", b->len);
	bool dup = false;
	if (hay) {
		for (char *save = NULL, *t = strtok_r(hay, ",", &save); t && !dup;
		     t = strtok_r(NULL, ",", &save))
			dup = !strcmp(t, item);
		free(hay);
	}
	if (dup)
		return;
	if (b->len)
		sbuf_adds(b, ",");
	sbuf_adds(b, item);
}

static void san_add_ip(struct sbuf *b, const char *ip)
{
	unsigned char a[16];
	if (strcmp(ip, "0.0.0.0") && strcmp(ip, "::") &&
	    (inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1))
		san_add(b, "IP", ip);
}

/* Every address of the box's interfaces except IPv6 link-local ones
 * (which need a zone no URL can carry). */
static void san_add_ifaddrs(struct sbuf *b)
{
	struct ifaddrs *ifa, *i;
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		char buf[INET6_ADDRSTRLEN];
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s4 = (const void *)i->ifa_addr;
			if (inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf)))
				san_add_ip(b, buf);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)i->ifa_addr;
			if (!IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) &&
			    inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof(buf)))
				san_add_ip(b, buf);
		}
	}
	freeifaddrs(ifa);
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (!e)
		return EINVAL;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : ENOMEM;
}

static int set_serial(X509 *x)
{
	unsigned char rnd[16];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return EIO;
	rnd[0] &= 0x7f; /* a positive serial number (RFC 5280 4.1.2.2) */
	BIGNUM *bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok ? 0 : ENOMEM;
}

static char *bio_text(BIO *bio)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *s = n > 0 ? strndup(data, (size_t)n) : NULL;
	return s;
}

/* Makes a key and a self-signed certificate as PEM text. */
static int generate(const char *host, const char *san, char **cert, char **key)
{
	int err = ENOMEM;
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	if (!pk || !x || !kb || !cb)
		goto out;
	X509_set_version(x, 2);
	if ((err = set_serial(x)))
		goto out;
	err = ENOMEM;
	X509_gmtime_adj(X509_getm_notBefore(x), -3600); /* a little clock skew */
	X509_gmtime_adj(X509_getm_notAfter(x), (long)VALID_DAYS * 86400);
	X509_set_pubkey(x, pk);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Hookflash PBX",
				   -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	err = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
	err = err ? err : add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
	err = err ? err : add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
	err = err ? err : add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	err = err ? err : add_ext(x, &ctx, NID_subject_alt_name, san);
	if (err)
		goto out;
	err = EIO;
	if (!X509_sign(x, pk, EVP_sha256()) ||
	    !PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x))
		goto out;
	*key = bio_text(kb);
	*cert = bio_text(cb);
	err = *key && *cert ? 0 : ENOMEM;
	if (err) {
		free(*key);
		free(*cert);
		*key = *cert = NULL;
	}
out:
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(pk);
	return err;
}

/* Writes text to path through a temporary file and a rename, so a crash
 * never leaves half a key behind. */
static int write_file(const char *path, const char *text, mode_t mode)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return errno;
	size_t n = strlen(text), off = 0;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return e;
		}
		off += (size_t)w;
	}
	if (fsync(fd) || close(fd) || rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return e;
	}
	return 0;
}

static int read_file(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > PEM_MAX) {
		close(fd);
		return EINVAL;
	}
	char *b = malloc((size_t)st.st_size + 1);
	ssize_t n = b ? read(fd, b, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(b);
		return EIO;
	}
	b[n] = '\0';
	*out = b;
	return 0;
}

int web_cert_load(const char *data_dir, const char *domain, const char binds[][64],
		  int nbinds, char **cert, char **key)
{
	char dir[400], cpath[450], kpath[450];
	snprintf(dir, sizeof(dir), "%s/web", data_dir);
	snprintf(cpath, sizeof(cpath), "%s/cert.pem", dir);
	snprintf(kpath, sizeof(kpath), "%s/key.pem", dir);
	bool have_c = access(cpath, F_OK) == 0, have_k = access(kpath, F_OK) == 0;
	if (have_c != have_k) {
		log_err(WEB_TAG, "%s without %s: put both back, or remove both to have a new "
			"self-signed pair made", have_c ? cpath : kpath, have_c ? kpath : cpath);
		return ENOENT;
	}
	if (!have_c) {
		if (mkdir(dir, 0700) && errno != EEXIST) {
			log_err(WEB_TAG, "cannot create %s: %s", dir, strerror(errno));
			return errno;
		}
		char host[256] = "";
		if (gethostname(host, sizeof(host) - 1) || !dns_name_ok(host))
			snprintf(host, sizeof(host), "hookflash");
		struct sbuf san;
		sbuf_init(&san);
		san_add(&san, "DNS", host);
		if (domain && dns_name_ok(domain))
			san_add(&san, "DNS", domain);
		san_add(&san, "DNS", "localhost");
		for (int i = 0; i < nbinds; i++)
			san_add_ip(&san, binds[i]);
		if (!nbinds)
			san_add_ifaddrs(&san);
		san_add_ip(&san, "127.0.0.1");
		san_add_ip(&san, "::1");
		sbuf_add(&san, "", 1); /* NUL */
		int err = san.err || !san.p ? ENOMEM : generate(host, san.p, cert, key);
		if (!err)
			err = write_file(kpath, *key, 0600);
		if (!err)
			err = write_file(cpath, *cert, 0644);
		if (err) {
			log_err(WEB_TAG, "cannot create a certificate in %s: %s", dir, strerror(err));
			free(*cert);
			free(*key);
			*cert = *key = NULL;
		} else {
			log_info(WEB_TAG, "new self-signed certificate %s for %s", cpath, san.p);
		}
		sbuf_free(&san);
		return err;
	}
	int err = read_file(cpath, cert);
	if (!err && (err = read_file(kpath, key))) {
		free(*cert);
		*cert = NULL;
	}
	if (err)
		log_err(WEB_TAG, "cannot read %s / %s: %s", cpath, kpath, strerror(err));
	return err;
}
