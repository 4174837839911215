/*
 * The dialplan applications built into Hookflash, for core/pbx to hand
 * to the call layer (struct call_deps.apps).
 */
#ifndef HF_APPS_H
#define HF_APPS_H

struct app_desc;

/* NULL-terminated. */
extern const struct app_desc *const apps_builtin[];

#endif
