/*
 * Local domains (see domains.h). IP literals are compared in binary form,
 * so "::1", "0:0::1" and "[::1]" are one address; names are compared
 * case-insensitively.
 */
#include "domains.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/conf.h"

#define MAX_ADDRS 64

struct ip {
	int af;
	unsigned char a[16];
};

struct domains {
	struct ip ips[MAX_ADDRS];
	int nips;
	char name[128];
};

static void add_ip(struct domains *d, int af, const void *a)
{
	if (d->nips == MAX_ADDRS)
		return;
	d->ips[d->nips].af = af;
	memcpy(d->ips[d->nips].a, a, af == AF_INET ? 4 : 16);
	d->nips++;
}

static bool parse_ip(const char *s, struct ip *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->af = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->af = AF_INET6;
		return true;
	}
	return false;
}

static void add_text(struct domains *d, const char *s)
{
	struct ip ip;
	if (s && *s && parse_ip(s, &ip))
		add_ip(d, ip.af, ip.a);
}

int domains_alloc(struct domains **out, const struct conf *c)
{
	struct domains *d = calloc(1, sizeof(*d));
	if (!d)
		return ENOMEM;
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr)
				continue;
			if (i->ifa_addr->sa_family == AF_INET)
				add_ip(d, AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr);
			else if (i->ifa_addr->sa_family == AF_INET6)
				add_ip(d, AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr);
		}
		freeifaddrs(ifa);
	}
	add_text(d, "127.0.0.1");
	add_text(d, "::1");
	for (int i = 0; i < c->nbinds; i++)
		add_text(d, c->binds[i]);
	add_text(d, c->external_addr);
	snprintf(d->name, sizeof(d->name), "%s", c->domain);
	*out = d;
	return 0;
}

void domains_free(struct domains *d)
{
	free(d);
}

bool domains_match(const struct domains *d, struct pl host)
{
	char h[128];
	if (!host.p || host.l == 0 || host.l >= sizeof(h))
		return false;
	pl_strcpy(host, h, sizeof(h));
	/* a fully qualified name may end with a dot */
	size_t n = strlen(h);
	if (n > 1 && h[n - 1] == '.')
		h[n - 1] = '\0';
	struct ip ip;
	if (parse_ip(h, &ip)) {
		for (int i = 0; i < d->nips; i++)
			if (d->ips[i].af == ip.af &&
			    !memcmp(d->ips[i].a, ip.a, ip.af == AF_INET ? 4 : 16))
				return true;
		return false;
	}
	if (!strcasecmp(h, "localhost"))
		return true;
	return d->name[0] && !strcasecmp(h, d->name);
}
