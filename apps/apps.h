/*
 * The dialplan applications built into Hookflash, for core/pbx to hand
 * to the call layer (struct call_deps.apps).
 */
#ifndef HF_APPS_H
#define HF_APPS_H

struct app_desc;

/* NULL-terminated. */
extern const struct app_desc *const apps_builtin[];

/* What the apps do once at start-up, before any call, with the database
 * (voicemail keeps messages a stop interrupted). Blocking is fine here. */
struct db;
void apps_startup(struct db *db, const char *data_dir);

#endif
