/*
 * Settings saved in the database by the web UI, over those of
 * hookflash.conf. A pure function of a conf and a database connection,
 * callable on any thread that owns the connection: at start-up (main.c),
 * on the store thread at a reload (pbx.c), and on a web thread to show
 * what a restart would use (web/api_settings.c).
 */
#ifndef HF_PBX_SETTINGS_H
#define HF_PBX_SETTINGS_H

struct conf;
struct db;

/* Keys in the database's settings table are PBX_SETTING_PREFIX +
 * "section.key". */
#define PBX_SETTING_PREFIX "conf."

/* Applies the settings saved in db over c. Saved values that no longer
 * parse are skipped with a warning; EINVAL (c untouched) when together
 * they break conf_check. */
int pbx_conf_apply_saved(struct conf *c, struct db *db);

#endif
