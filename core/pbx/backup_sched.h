/*
 * The scheduled-backup thread (backup_sched.c): started with the web's
 * queue to the loop, which it asks for the settings in effect, and
 * stopped (joined) before that queue is freed.
 */
#ifndef HF_BACKUP_SCHED_H
#define HF_BACKUP_SCHED_H

struct pbx_web;
struct backup_sched;

int backup_sched_start(struct backup_sched **out, struct pbx_web *pw, const char *data_dir);
/* Wakes the thread and waits for it (a backup under way is finished). */
void backup_sched_stop(struct backup_sched *s);

#endif
