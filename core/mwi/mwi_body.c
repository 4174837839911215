/*
 * The NOTIFY body of the message-summary event (RFC 3842 5.2), kept apart
 * from the subscription logic because it is a pure function of the
 * counts: the unit tests check it against the RFC's examples.
 */
#include "mwi.h"

#include "../base/sbuf.h"

void mwi_body(struct sbuf *b, const char *account, int new_msgs, int old_msgs)
{
	if (new_msgs < 0)
		new_msgs = 0;
	if (old_msgs < 0)
		old_msgs = 0;
	/* "yes" means new messages: old ones alone do not light the lamp */
	sbuf_printf(b, "Messages-Waiting: %s\r\n", new_msgs > 0 ? "yes" : "no");
	if (account && account[0])
		sbuf_printf(b, "Message-Account: %s\r\n", account);
	/* we keep no urgency, so the urgent counts in parentheses are 0 */
	sbuf_printf(b, "Voice-Message: %d/%d (0/0)\r\n", new_msgs, old_msgs);
}
