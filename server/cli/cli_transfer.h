/* cli_transfer.h - exporting a running loupe's telemetry as OTLP JSON
 * lines, shared by loupe export and loupe run --save. */
#ifndef LOUPE_CLI_TRANSFER_H
#define LOUPE_CLI_TRANSFER_H

#include <stddef.h>
#include <stdio.h>

#include "cli_http.h"

#define CLI_SIGNAL_ALL 7u /* traces (1), logs (2), metrics (4) */

/* Streams GET /api/v1/export for each signal of the mask, in the order
 * traces, logs, metrics, into f; counts[] gets the lines of each. Returns
 * CLI_HTTP_OK, or a CLI_HTTP_E* code with err set. */
int cli_export_to(cli_http *h, unsigned signals, FILE *f, size_t counts[3], char *err,
                  size_t errlen);

#endif
