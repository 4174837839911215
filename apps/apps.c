/*
 * The table of built-in apps. Adding an app: a folder with its
 * descriptor, and one line here.
 */
#include "apps.h"

#include "../core/call/app.h"
#include "voicemail/vm.h"

extern const struct app_desc echo_app;
extern const struct app_desc noservice_app;
extern const struct app_desc voicemail_app;
extern const struct app_desc vmmain_app;
extern const struct app_desc vmany_app;
extern const struct app_desc fwdon_app, fwdoff_app, dndon_app, dndoff_app;

const struct app_desc *const apps_builtin[] = {
	&echo_app,
	&noservice_app,
	&voicemail_app,
	&vmmain_app,
	&vmany_app,
	&fwdon_app,
	&fwdoff_app,
	&dndon_app,
	&dndoff_app,
	NULL,
};

void apps_startup(struct db *db, const char *data_dir)
{
	vm_recover(db, data_dir);
}
