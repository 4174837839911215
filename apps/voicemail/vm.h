/*
 * Private to apps/voicemail: what leaving a message (vm_deposit.c) and
 * listening to them (vm_main.c) share: the mailbox folder, prompt lists
 * played as one sequence, collecting digits, and the PBX services copied
 * so that work finishing after the caller hung up can still light the
 * lamp and send the e-mail.
 */
#ifndef HF_APP_VM_H
#define HF_APP_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../core/call/app.h"

#define VM_TAG "voicemail"
#define VM_MAX_PROMPTS 16
#define VM_MSG_MAX_MS (180u * 1000u)   /* longest message */
#define VM_MSG_MIN_MS 1000u            /* shorter ones are dropped */

/* A sequence of prompts (by name, "vm-intro", or by path when it starts
 * with '/') to play as one. */
struct vm_say {
	char path[VM_MAX_PROMPTS][256];
	size_t n;
};

void vm_say_init(struct vm_say *s);
void vm_say_add(struct vm_say *s, const struct app_call *c, const char *name);
/* The digits of a number, one prompt each ("digits/1", ...). */
void vm_say_digits(struct vm_say *s, const struct app_call *c, const char *number);
void vm_say_number(struct vm_say *s, const struct app_call *c, unsigned n);
/* When something happened ("today at three fifteen p-m", ...). */
void vm_say_when(struct vm_say *s, const struct app_call *c, int64_t when);
int vm_say_play(struct vm_say *s, struct app_call *c, uint32_t tag);

/* DATA_DIR/voicemail/<mailbox> */
void vm_dir(const struct app_call *c, const char *mailbox, char *out, size_t cap);

/* Digits collected until '#' (or max), with a timeout. */
struct vm_digits {
	char buf[32];
	size_t n;
};

/* Work that must end on the loop even when the call has gone: the lamp
 * and the e-mail of a message left by a caller who hung up. */
struct vm_saved {
	char mailbox[32];
	char email[256];
	bool email_delete;
	char caller[64], caller_name[128];
	int64_t received_at;
	uint32_t duration_ms;
	char path[512];
	int64_t id;       /* the message row, once stored */
	int err;          /* of the store */
};

/* Stores the message of s (its row; the file is written) and then, on
 * the loop, lights the lamp and queues the e-mail. c must be alive now;
 * the rest happens whether or not it is later. */
void vm_store_message(struct app_call *c, struct vm_saved *s);

/* At start-up: messages whose recording a stop interrupted are kept
 * (vm_recover.c). */
struct db;
void vm_recover(struct db *db, const char *data_dir);

#endif
