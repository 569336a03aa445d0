/* config_internal.h - what config.c shares with config_aspire.c. */
#ifndef LOUPE_CONFIG_INTERNAL_H
#define LOUPE_CONFIG_INTERNAL_H

#include <stddef.h>

#include "config.h"

/* Sets the flag --name (without the dashes) from value as the command line
 * would, checking it the same way; source names where the value came from
 * in the error ("DASHBOARD__OTLP__PRIMARYAPIKEY"). value must live as long
 * as cfg. A --ui-token set this way is remembered in cfg->aspire_token, so
 * that LOUPE_UI_TOKEN_FILE can replace it. Returns 0, or -1 with a
 * one-line reason in err. */
int config_apply(config *cfg, const char *name, const char *value, const char *source, char *err,
                 size_t errlen);

/* The Aspire dashboard's configuration names (docs/aspire.md) from the
 * environment, applied to cfg through config_apply(); run after the
 * defaults and before the LOUPE_* variables, so loupe's own names win.
 * Names Aspire has and loupe gives no meaning are listed in
 * cfg->aspire_ignored. Returns CONFIG_OK or CONFIG_EINVAL (err set). */
int config_from_aspire(config *cfg, char *err, size_t errlen);

#endif
