/*
 * Which Request-URI hosts are ours: every address of the box (read once at
 * start), the bind and external addresses, the configured domain name and
 * "localhost". A REGISTER for any other domain is refused.
 */
#ifndef HF_DOMAINS_H
#define HF_DOMAINS_H

#include <stdbool.h>

#include "../base/pl.h"

struct conf;
struct domains;

int domains_alloc(struct domains **out, const struct conf *c);
void domains_free(struct domains *d);
bool domains_match(const struct domains *d, struct pl host);

#endif
