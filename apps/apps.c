/*
 * The table of built-in apps. Adding an app: a folder with its
 * descriptor, and one line here.
 */
#include "apps.h"

#include "../core/call/app.h"

extern const struct app_desc echo_app;
extern const struct app_desc noservice_app;

const struct app_desc *const apps_builtin[] = {
	&echo_app,
	&noservice_app,
	NULL,
};
