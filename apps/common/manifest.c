/*
 * manifest.h's list. It repeats sounds/manifest.txt, the list people read
 * (with what each prompt says), because the daemon must not depend on the
 * source tree at run time; tests/unit/test_say.c compares the two, so an
 * app that starts playing a new prompt adds it to both or the test fails.
 */
#include "manifest.h"

#include <stddef.h>

const char *const apps_prompts[] = {
	/* The echo test (apps/echo) */
	"demo-echotest", "demo-echodone",
	/* Not in service (apps/noservice) */
	"ss-noservice",
	/* Voicemail: leaving a message (the names Asterisk's app_voicemail uses) */
	"vm-intro", "vm-theperson", "vm-extension", "vm-isunavail", "vm-isonphone", "beep",
	"vm-mailboxfull", "vm-whichbox", "vm-tooshort", "vm-review", "vm-goodbye",
	/* Voicemail: logging in */
	"vm-login", "vm-password", "vm-incorrect",
	/* Voicemail: counting and playing messages */
	"vm-youhave", "vm-no", "vm-INBOX", "vm-Old", "vm-message", "vm-messages", "vm-and",
	"vm-first", "vm-last", "vm-next", "vm-nomore", "vm-received", "vm-from",
	"vm-unknown-caller", "vm-instructions", "vm-msginstruct", "vm-msgsaved", "vm-deleted",
	"vm-undeleted", "vm-sorry", "vm-onefor", "vm-press",
	/* Voicemail: forwarding */
	"vm-forward", "vm-forwardoptions",
	/* Voicemail: mailbox options */
	"vm-options", "vm-rec-unv", "vm-rec-busy", "vm-rec-name", "vm-newpassword",
	"vm-reenterpassword", "vm-passchanged", "vm-mismatch",
	/* Call forwarding and do not disturb confirmations */
	"call-forwarding", "call-fwd-unconditional", "call-fwd-on-busy", "call-fwd-no-ans",
	"do-not-disturb", "activated", "de-activated", "enabled", "disabled", "extension",
	/* Numbers (apps/common/say.c: say_number, say_count) */
	"digits/0", "digits/1", "digits/2", "digits/3", "digits/4", "digits/5", "digits/6",
	"digits/7", "digits/8", "digits/9", "digits/10", "digits/11", "digits/12", "digits/13",
	"digits/14", "digits/15", "digits/16", "digits/17", "digits/18", "digits/19", "digits/20",
	"digits/30", "digits/40", "digits/50", "digits/60", "digits/70", "digits/80", "digits/90",
	"digits/hundred", "digits/thousand", "digits/million",
	/* Dates and times (apps/common/say.c: say_datetime) */
	"digits/day-0", "digits/day-1", "digits/day-2", "digits/day-3", "digits/day-4",
	"digits/day-5", "digits/day-6", "digits/mon-0", "digits/mon-1", "digits/mon-2",
	"digits/mon-3", "digits/mon-4", "digits/mon-5", "digits/mon-6", "digits/mon-7",
	"digits/mon-8", "digits/mon-9", "digits/mon-10", "digits/mon-11", "digits/h-1",
	"digits/h-2", "digits/h-3", "digits/h-4", "digits/h-5", "digits/h-6", "digits/h-7",
	"digits/h-8", "digits/h-9", "digits/h-10", "digits/h-11", "digits/h-12", "digits/h-13",
	"digits/h-14", "digits/h-15", "digits/h-16", "digits/h-17", "digits/h-18", "digits/h-19",
	"digits/h-20", "digits/h-30", "digits/at", "digits/oh", "digits/oclock", "digits/a-m",
	"digits/p-m", "digits/today", "digits/yesterday",
	NULL,
};
