/*
 * The names of every prompt the built-in apps play (sounds/manifest.txt,
 * which also says what each one says). core/pbx hands the list to the
 * prompt cache at start (core/media/audio/prompts.h), which checks and
 * converts each one once, so a missing recording is reported when the
 * daemon starts rather than heard as silence in a call.
 */
#ifndef HF_APPS_MANIFEST_H
#define HF_APPS_MANIFEST_H

/* NULL-terminated; in the order of sounds/manifest.txt. */
extern const char *const apps_prompts[];

#endif
