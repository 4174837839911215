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

/* True when the source is banned as a whole at now_ms (monotonic ms). */
bool ban_is_banned(struct ban_list *b, const struct sockaddr *sa, uint64_t now_ms);
/* Counts a failure; returns true exactly when this failure starts a ban
 * (the caller logs it once). */
bool ban_record_failure(struct ban_list *b, const struct sockaddr *sa, uint64_t now_ms);
/* A success clears the failure count of the source. */
void ban_record_success(struct ban_list *b, const struct sockaddr *sa);

enum ban_verdict { BAN_NONE = 0, BAN_USER, BAN_ADDR };
/* Counts a failed authentication of user ("" when unknown) from sa. The
 * address is banned when this user reaches fail_limit failures within the
 * window, or all users from it twice that; but when keep_addr (it holds
 * live registrations or dialogs) only this user is refused from it, for
 * the ban time. Returns the ban this failure started, BAN_NONE if none. */
enum ban_verdict ban_record_user_failure(struct ban_list *b, const struct sockaddr *sa,
					 const char *user, bool keep_addr, uint64_t now_ms);
/* True when user is refused from sa (a user ban, not an address ban). */
bool ban_user_is_banned(struct ban_list *b, const struct sockaddr *sa, const char *user,
			uint64_t now_ms);
/* Clears user's failure count at sa (NULL: every user's); the address's
 * own count too, and its entry, unless a ban is running there. */
void ban_record_user_success(struct ban_list *b, const struct sockaddr *sa, const char *user);
/* Lifts a ban, and the user bans at that address; the address is text ("1.2.3.4", "2001:db8::1"). ENOENT. */
int ban_lift(struct ban_list *b, const char *addr);

struct ban_entry_info {
	char addr[64];        /* "1.2.3.4" or "2001:db8:1:2::/64" */
	char user[24];        /* whose failures started it ("" unknown) */
	bool user_only;       /* only user is refused; the address is not banned */
	uint32_t failures;
	uint32_t banned_for_s; /* remaining; 0 when not banned */
	uint32_t banned_since_s; /* how long ago it started */
};
typedef void(ban_list_h)(const struct ban_entry_info *e, void *arg);
/* Reports each banned source and each refused user (and, when all,
 * sources with failures). */
void ban_list_each(struct ban_list *b, uint64_t now_ms, bool all, ban_list_h *h, void *arg);
size_t ban_count(struct ban_list *b, uint64_t now_ms);

#endif
