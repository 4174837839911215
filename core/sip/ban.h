/*
 * Brute-force protection: counts authentication failures per source
 * address (IPv4 /32, IPv6 /64 so a host cannot dodge by rotating its
 * interface id) within a sliding window, and bans a source that passes the
 * limit for a while. Memory is bounded; the oldest idle entries go first.
 */
#ifndef HF_SIP_BAN_H
#define HF_SIP_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ban_list;

struct ban_cfg {
	uint32_t fail_limit;  /* failures ... */
	uint32_t window_s;    /* ... within this window ... */
	uint32_t ban_s;       /* ... ban for this long */
	size_t max_entries;   /* 0: 65536 */
};

int ban_list_alloc(struct ban_list **out, const struct ban_cfg *cfg);
void ban_list_free(struct ban_list *b);
void ban_list_configure(struct ban_list *b, const struct ban_cfg *cfg);

/* True when the source is banned at now_ms (monotonic ms). */
bool ban_is_banned(struct ban_list *b, const struct sockaddr *sa, uint64_t now_ms);
/* Counts a failure; returns true exactly when this failure starts a ban
 * (the caller logs it once). */
bool ban_record_failure(struct ban_list *b, const struct sockaddr *sa, uint64_t now_ms);
/* A success clears the failure count of the source. */
void ban_record_success(struct ban_list *b, const struct sockaddr *sa);
/* Lifts a ban; the address is text ("1.2.3.4", "2001:db8::1"). ENOENT. */
int ban_lift(struct ban_list *b, const char *addr);

struct ban_entry_info {
	char addr[64];        /* "1.2.3.4" or "2001:db8:1:2::/64" */
	uint32_t failures;
	uint32_t banned_for_s; /* remaining; 0 when not banned */
};
typedef void(ban_list_h)(const struct ban_entry_info *e, void *arg);
/* Reports each banned source (and, when all, sources with failures). */
void ban_list_each(struct ban_list *b, uint64_t now_ms, bool all, ban_list_h *h, void *arg);
size_t ban_count(struct ban_list *b, uint64_t now_ms);

#endif
