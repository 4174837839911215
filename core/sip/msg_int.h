/*
 * Private to the SIP message code (msg_parse.c, msg_uri.c, msg_frame.c,
 * msg_build.c): the RFC 3261 section 25 character classes and a few
 * scanners they share. Character classes are switch-based inline
 * functions rather than a 256-entry table so each can be checked against
 * the ABNF by reading it; compilers turn them into bit tests anyway.
 */
#ifndef HF_SIP_MSG_INT_H
#define HF_SIP_MSG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"

static inline bool cc_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static inline bool cc_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool cc_alnum(unsigned char c)
{
	return cc_alpha(c) || cc_digit(c);
}

static inline int cc_hexval(unsigned char c)
{
	if (cc_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static inline bool cc_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
static inline bool cc_token(unsigned char c)
{
	if (cc_alnum(c))
		return true;
	switch (c) {
	case '-': case '.': case '!': case '%': case '*':
	case '_': case '+': case '`': case '\'': case '~':
		return true;
	default:
		return false;
	}
}

/* word (Call-ID): token characters plus ( ) < > : \ DQUOTE / [ ] ? { } */
static inline bool cc_word(unsigned char c)
{
	if (cc_token(c))
		return true;
	switch (c) {
	case '(': case ')': case '<': case '>': case ':': case '\\':
	case '"': case '/': case '[': case ']': case '?': case '{': case '}':
		return true;
	default:
		return false;
	}
}

/* unreserved = alphanum / mark; mark = - _ . ! ~ * ' ( ) */
static inline bool cc_unreserved(unsigned char c)
{
	if (cc_alnum(c))
		return true;
	switch (c) {
	case '-': case '_': case '.': case '!': case '~':
	case '*': case '\'': case '(': case ')':
		return true;
	default:
		return false;
	}
}

/* reserved = ; / ? : @ & = + $ , */
static inline bool cc_reserved(unsigned char c)
{
	switch (c) {
	case ';': case '/': case '?': case ':': case '@':
	case '&': case '=': case '+': case '$': case ',':
		return true;
	default:
		return false;
	}
}

/* user: unreserved / escaped / user-unreserved (& = + $ , ; ? /) */
static inline bool cc_user(unsigned char c)
{
	if (cc_unreserved(c))
		return true;
	switch (c) {
	case '&': case '=': case '+': case '$': case ',':
	case ';': case '?': case '/':
		return true;
	default:
		return false;
	}
}

/* password: unreserved / escaped / & = + $ , */
static inline bool cc_password(unsigned char c)
{
	if (cc_unreserved(c))
		return true;
	switch (c) {
	case '&': case '=': case '+': case '$': case ',':
		return true;
	default:
		return false;
	}
}

/* paramchar: param-unreserved ([ ] / : & + $) / unreserved / escaped */
static inline bool cc_paramchar(unsigned char c)
{
	if (cc_unreserved(c))
		return true;
	switch (c) {
	case '[': case ']': case '/': case ':': case '&': case '+': case '$':
		return true;
	default:
		return false;
	}
}

/* hname/hvalue: hnv-unreserved ([ ] / ? : + $) / unreserved / escaped */
static inline bool cc_hnv(unsigned char c)
{
	if (cc_unreserved(c))
		return true;
	switch (c) {
	case '[': case ']': case '/': case '?': case ':': case '+': case '$':
		return true;
	default:
		return false;
	}
}

/* hostname characters; '_' is not in the grammar but common in the
 * field (NetBIOS-style names), and harmless to accept. */
static inline bool cc_host(unsigned char c)
{
	return cc_alnum(c) || c == '-' || c == '.' || c == '_';
}

/* Inside [...]: hex digits, ':' and '.' (IPv4 tail). */
static inline bool cc_ipv6(unsigned char c)
{
	return cc_hexval(c) >= 0 || c == ':' || c == '.';
}

/* generic-param value: token / host / quoted-string. host adds ':' and
 * brackets (a bare or bracketed IPv6 address, RFC 5118 4.5). */
static inline bool cc_genvalue(unsigned char c)
{
	return cc_token(c) || c == ':' || c == '[' || c == ']';
}

static inline struct pl pl_sub(struct pl s, size_t from, size_t to)
{
	return (struct pl){ s.p + from, to - from };
}

/* Index just past the quoted string that opens at s.p[i] ('"'), honouring
 * quoted-pair; 0 when it is not terminated. */
size_t msg_quoted_end(struct pl s, size_t i);

/* Whether a ';'-separated generic-param list is well formed: no empty
 * parameter, token names, token/host/quoted-string values. */
bool msg_params_valid(struct pl params);

/* Parses a Via value like sip_via_parse(), but separates the two ways it
 * can be wrong: returns EINVAL when the sent-protocol or sent-by is
 * unusable (no response can be routed), and 0 with *params_ok false when
 * only the parameters are malformed (a 400 can still be sent back). */
int msg_via_parse(struct sip_via *v, struct pl s, bool *params_ok);

#endif
