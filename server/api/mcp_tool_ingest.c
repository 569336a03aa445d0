/* mcp_tool_ingest.c - the MCP tool ingest_requests: what the ingest
 * inspector saw (GET /api/v1/ingest/requests and /ingest/clients), for "why
 * do my spans not show up" questions. */
#include <stdio.h>
#include <string.h>

#include "mcp_internal.h"

static void mcp_ingest_props(json_t *props, json_t *required) {
    (void)required;
    static const char *const views[] = {"requests", "clients", NULL};
    static const char *const outcomes[] = {"ok", "partial", "error", "partial,error", NULL};
    static const char *const transports[] = {"grpc", "http", NULL};
    mcp_prop_enum(props, "view", views,
                  "requests (default): the latest export requests one by one; clients: one line "
                  "per client, SDK and service with their totals.");
    mcp_prop_enum(props, "outcome", outcomes,
                  "Only requests with this outcome: ok, partial (some items rejected), error "
                  "(refused), or partial,error.");
    mcp_prop_enum(props, "transport", transports, "Only OTLP/gRPC or OTLP/HTTP requests.");
    mcp_prop(props, "service", "string", "Only requests whose resource has this service.name.");
    mcp_prop_int(props, "limit", 1, 200, "Requests to list (default 20).");
}

/* "4 B" or "82 KiB"; "?" when the API says null. */
static void mcp_ingest_bytes(json_t *v, char *out, size_t outlen) {
    if (!json_is_number(v)) {
        snprintf(out, outlen, "?");
        return;
    }
    double n = json_number_value(v);
    if (n < 1024)
        snprintf(out, outlen, "%.0f B", n);
    else if (n < 1048576)
        snprintf(out, outlen, "%.1f KiB", n / 1024);
    else
        snprintf(out, outlen, "%.1f MiB", n / 1048576);
}

/* "opentelemetry nodejs 2.0.1", or "unknown SDK". */
static void mcp_ingest_sdk(json_t *sdk, char *out, size_t outlen) {
    out[0] = '\0';
    const char *parts[] = {mcp_j_str(sdk, "name"), mcp_j_str(sdk, "language"),
                           mcp_j_str(sdk, "version")};
    for (size_t i = 0; i < 3; i++) {
        char one[48];
        textfmt_clip(parts[i], 40, one, sizeof(one));
        if (one[0] != '\0')
            textfmt_append(out, outlen, " ", "%s", one);
    }
    if (out[0] == '\0')
        snprintf(out, outlen, "unknown SDK");
}

static void mcp_ingest_request_line(mcp_call *c, json_t *r) {
    char when[40], wire[24], decoded[24], sdk[160], svc[160], ua[140], ack[32], status[40];
    textfmt_time_utc(mcp_j_ns(r, "timeUnixNano"), when, sizeof(when));
    mcp_ingest_bytes(json_object_get(r, "wireBytes"), wire, sizeof(wire));
    mcp_ingest_bytes(json_object_get(r, "decodedBytes"), decoded, sizeof(decoded));
    mcp_ingest_sdk(json_object_get(r, "sdk"), sdk, sizeof(sdk));
    textfmt_clip(json_is_string(json_object_get(r, "service")) ? mcp_j_str(r, "service")
                                                               : "(no service.name)",
                 120, svc, sizeof(svc));
    textfmt_clip(mcp_j_str(r, "userAgent"), 100, ua, sizeof(ua));
    textfmt_duration((uint64_t)mcp_j_num(r, "ackNs", 0), ack, sizeof(ack));
    if (strcmp(mcp_j_str(r, "transport"), "grpc") == 0 && mcp_j_num(r, "httpStatus", 0) == 200)
        snprintf(status, sizeof(status), "%s", mcp_j_str(r, "grpcStatusName"));
    else
        snprintf(status, sizeof(status), "HTTP %.0f", mcp_j_num(r, "httpStatus", 0));
    const char *signal = json_is_string(json_object_get(r, "signal")) ? mcp_j_str(r, "signal")
                                                                      : mcp_j_str(r, "path");
    mcp_text_line(&c->text,
                  "- #%.0f %s %s (%s) %s %s: %.0f items (%.0f rejected), %s on the wire, %s "
                  "decoded, answered in %s; service %s, %s; client %s \"%s\"",
                  mcp_j_num(r, "id", 0), when, mcp_j_str(r, "outcome"), status,
                  mcp_j_str(r, "protocol"), signal, mcp_j_num(r, "items", 0),
                  mcp_j_num(r, "rejectedItems", 0), wire, decoded, ack, svc, sdk,
                  mcp_j_str(r, "client"), ua);
    const char *hint = mcp_j_str(r, "hint");
    if (hint[0] != '\0') {
        char h[600];
        textfmt_clip(hint, 560, h, sizeof(h));
        mcp_text_line(&c->text, "  what to do: %s", h);
    } else if (mcp_j_str(r, "message")[0] != '\0') {
        char m[300];
        textfmt_clip(mcp_j_str(r, "message"), 260, m, sizeof(m));
        mcp_text_line(&c->text, "  loupe answered: %s", m);
    }
}

static void mcp_ingest_client_line(mcp_call *c, json_t *cl) {
    char sdk[160], svc[160], ua[140], seen[40], protos[80] = "", reason[64] = "";
    mcp_ingest_sdk(json_object_get(cl, "sdk"), sdk, sizeof(sdk));
    textfmt_clip(json_is_string(json_object_get(cl, "service")) ? mcp_j_str(cl, "service")
                                                                : "(no service.name)",
                 120, svc, sizeof(svc));
    textfmt_clip(mcp_j_str(cl, "userAgent"), 100, ua, sizeof(ua));
    textfmt_time_utc(mcp_j_ns(cl, "lastSeenUnixNano"), seen, sizeof(seen));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(cl, "protocols"), i, p)
        textfmt_append(protos, sizeof(protos), ", ", "%s", json_string_value(p));
    if (json_is_string(json_object_get(cl, "lastReason")))
        snprintf(reason, sizeof(reason), ", last refusal: %s", mcp_j_str(cl, "lastReason"));
    mcp_text_line(&c->text,
                  "- %s \"%s\": service %s, %s, via %s: %.0f requests, %.0f items, %.0f "
                  "refused, %.0f partial (%.0f items rejected); last seen %s (%s%s)",
                  mcp_j_str(cl, "client"), ua, svc, sdk, protos, mcp_j_num(cl, "requests", 0),
                  mcp_j_num(cl, "items", 0), mcp_j_num(cl, "errors", 0),
                  mcp_j_num(cl, "partial", 0), mcp_j_num(cl, "rejectedItems", 0), seen,
                  mcp_j_str(cl, "lastOutcome"), reason);
}

static void mcp_ingest_run(mcp_call *c) {
    const char *view, *outcome, *transport, *service;
    long limit;
    if (mcp_arg_string(c, "view", &view) != 0 || mcp_arg_string(c, "outcome", &outcome) != 0 ||
        mcp_arg_string(c, "transport", &transport) != 0 ||
        mcp_arg_string(c, "service", &service) != 0 ||
        mcp_arg_int(c, "limit", 1, 200, 20, &limit) != 0)
        return;
    int clients = view != NULL && strcmp(view, "clients") == 0;
    if (view != NULL && !clients && strcmp(view, "requests") != 0) {
        mcp_fail(c, "Argument 'view' must be requests or clients.");
        return;
    }
    mcp_q_path(c, clients ? "/api/v1/ingest/clients" : "/api/v1/ingest/requests");
    if (!clients) {
        mcp_q_param(c, "outcome", outcome);
        mcp_q_param(c, "transport", transport);
        mcp_q_param(c, "service", service);
        mcp_q_param_u64(c, "limit", (uint64_t)limit);
    }
    json_t *doc;
    char msg[256];
    if (mcp_fetch(c, &doc, msg, sizeof(msg)) != 0)
        return;
    if (!json_is_true(json_object_get(doc, "enabled"))) {
        mcp_text_line(&c->text, "The ingest inspector is off: loupe was started with "
                                "--ingest-log-size 0, so it keeps no record of export requests.");
        json_decref(doc);
        return;
    }
    json_t *list = json_object_get(doc, clients ? "clients" : "requests");
    size_t i;
    json_t *item;
    if (clients) {
        mcp_text_line(&c->text,
                      "%zu clients (a client is an address, user agent, service and SDK), "
                      "most recently seen first; counted since loupe started:",
                      json_array_size(list));
        json_array_foreach(list, i, item) mcp_ingest_client_line(c, item);
    } else {
        mcp_text_line(&c->text,
                      "%zu export requests, newest first (loupe keeps the last %.0f in memory). "
                      "Each: id, time, outcome (status), protocol, signal, items, sizes, time to "
                      "answer, service, SDK, client and user agent; refusals with what to do:",
                      json_array_size(list), mcp_j_num(doc, "capacity", 0));
        json_array_foreach(list, i, item) mcp_ingest_request_line(c, item);
        if (json_array_size(list) == 0)
            mcp_text_line(&c->text, "None%s. If an app's telemetry is missing and nothing "
                                    "arrives here, its exporter is not reaching loupe: check "
                                    "OTEL_EXPORTER_OTLP_ENDPOINT and the ports loupe listens on.",
                          outcome || transport || service ? " match" : " yet");
    }
    mcp_text_finish(&c->text, clients ? "clients" : "requests",
                    "Filter by outcome, transport or service, or lower the limit.");
    json_decref(doc);
}

const mcp_tool mcp_tool_ingest_requests = {
    "ingest_requests", "Inspect export requests",
    "The export requests loupe received lately, as they arrived: protocol (grpc, http/protobuf, "
    "http/json), compression, bytes on the wire and decoded, items, outcome (accepted, partial "
    "success with the rejected count, or refused with the status and the reason), time to "
    "answer, client address, user agent, SDK (telemetry.sdk.*) and service.name, with what to "
    "do about each refusal; or one line per client with its totals (view: clients). Use it "
    "when telemetry does not show up, shows up as unknown_service, or an exporter reports "
    "errors.",
    mcp_ingest_props, mcp_ingest_run};
