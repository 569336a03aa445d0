/* lint.c - the lint rules, the deprecated-name table and the pure checks
 * on model items, see lint.h. */
#include "lint.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- rules -------------------------------------------------------------------- */

static const struct {
    const char *id;
    lint_severity severity;
    const char *hint;
} lint_rules[LINT_RULES] = {
    [LINT_MISSING_SERVICE_NAME] =
        {"missing-service-name", LINT_ERROR,
         "Name the service: set OTEL_SERVICE_NAME in the process's environment, or the "
         "service.name attribute of the SDK's resource. Without it every process is "
         "unknown_service and its telemetry cannot be told apart."},
    [LINT_ORPHAN_SPAN] =
        {"orphan-span", LINT_WARNING,
         "The parent these spans name never reached loupe. Check that the caller is "
         "instrumented and exports here, that it ends its spans and flushes before it exits, "
         "and that no proxy or client forwards a traceparent from outside."},
    [LINT_ERROR_WITHOUT_STATUS] =
        {"error-without-status", LINT_WARNING,
         "Where an exception is recorded on a span, also set the span's status to ERROR "
         "(span.setStatus({code: SpanStatusCode.ERROR}) beside span.recordException(e)); "
         "exceptions that are handled need not be recorded at all."},
    [LINT_SERVER_SPAN_KIND] =
        {"server-span-kind", LINT_ERROR,
         "Start the span of an incoming request with kind SERVER (SpanKind.SERVER). loupe's "
         "service map and request rates count a service's SERVER spans as its entry "
         "operations."},
    [LINT_DEPRECATED_ATTRIBUTE] =
        {"deprecated-attribute", LINT_INFO,
         "Use the current attribute name (semantic conventions " LINT_SEMCONV_VERSION
         "). Recent instrumentation libraries emit it, some only with "
         "OTEL_SEMCONV_STABILITY_OPT_IN (http, database, messaging)."},
    [LINT_CLOCK_SKEW] =
        {"clock-skew", LINT_WARNING,
         "This service's clock disagrees with its caller's: synchronise the hosts' clocks "
         "(NTP, chrony; for containers and VMs, the host's). Until then its spans are drawn "
         "outside the spans that called them."},
    [LINT_HIGH_CARDINALITY] =
        {"high-cardinality-metric", LINT_WARNING,
         "Drop the attribute with the most values from this metric, or record a bounded form "
         "of it (a route instead of a URL, a status class instead of an id), for example "
         "with a View that keeps only the attributes you query by."},
    [LINT_LOG_WITHOUT_SEVERITY] =
        {"log-without-severity", LINT_WARNING,
         "Give every log record a severity number (SeverityNumber): use a logging bridge or "
         "set it when emitting. Severity text alone cannot be filtered by level."},
    [LINT_DROPPED_DATA] =
        {"dropped-data", LINT_WARNING,
         "Data was dropped before it could be stored."},
};

const char *lint_rule_id(int rule) {
    return rule >= 0 && rule < LINT_RULES ? lint_rules[rule].id : NULL;
}

int lint_rule_by_id(const char *id) {
    for (int r = 0; id != NULL && r < LINT_RULES; r++)
        if (strcmp(id, lint_rules[r].id) == 0)
            return r;
    return -1;
}

lint_severity lint_rule_severity(int rule) {
    return rule >= 0 && rule < LINT_RULES ? lint_rules[rule].severity : LINT_INFO;
}

static const char *const lint_severities[] = {NULL, "info", "warning", "error"};

const char *lint_severity_name(int severity) {
    return severity >= LINT_INFO && severity <= LINT_ERROR ? lint_severities[severity] : NULL;
}

int lint_severity_by_name(const char *name) {
    for (int s = LINT_INFO; name != NULL && s <= LINT_ERROR; s++)
        if (strcmp(name, lint_severities[s]) == 0)
            return s;
    return 0;
}

void lint_hint(int rule, const char *key, char *out, size_t outlen) {
    if (outlen == 0)
        return;
    out[0] = '\0';
    if (rule == LINT_DEPRECATED_ATTRIBUTE && key != NULL) {
        const lint_deprecated *d = lint_deprecated_find(key, strlen(key));
        if (d != NULL && d->renamed != NULL) {
            snprintf(out, outlen,
                     "Rename %s to %s (semantic conventions " LINT_SEMCONV_VERSION
                     "); recent instrumentation libraries emit the new name, some only with "
                     "OTEL_SEMCONV_STABILITY_OPT_IN.",
                     d->name, d->renamed);
            return;
        }
        if (d != NULL) {
            snprintf(out, outlen, "%s is deprecated: %s (semantic conventions " LINT_SEMCONV_VERSION
                                  ").",
                     d->name, d->note);
            return;
        }
    }
    if (rule == LINT_DROPPED_DATA && key != NULL && strcmp(key, LINT_KEY_LOUPE) == 0) {
        snprintf(out, outlen,
                 "loupe's own limits left out attributes, events or links, or cut long values: "
                 "raise --max-attributes, --max-attribute-value-length, --max-span-events or "
                 "--max-span-links, or send less.");
        return;
    }
    if (rule == LINT_DROPPED_DATA) {
        snprintf(out, outlen,
                 "The SDK dropped attributes, events or links past its limits (the items' "
                 "dropped counts): raise OTEL_ATTRIBUTE_COUNT_LIMIT, "
                 "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_EVENT_COUNT_LIMIT or "
                 "OTEL_SPAN_LINK_COUNT_LIMIT, or record less.");
        return;
    }
    const char *h = rule >= 0 && rule < LINT_RULES ? lint_rules[rule].hint : "";
    snprintf(out, outlen, "%s", h);
}

/* ---- deprecated names --------------------------------------------------------------
 * From the deprecated attributes of the OpenTelemetry semantic conventions'
 * registry, release 1.44.0. Left out: templates (container.labels.<key>),
 * names too generic to be told from an application's own attributes
 * (state, pool.name, message.*), and the gen_ai.* attributes that 1.44.0
 * moved to the GenAI conventions' own repository (still current there);
 * the GenAI names deprecated within GenAI itself are in. */

#define R(name, to) {name, to, NULL}
#define N(name, note) {name, NULL, note}

static const lint_deprecated lint_dep[] = {
    /* HTTP */
    R("http.method", "http.request.method"),
    R("http.status_code", "http.response.status_code"),
    R("http.scheme", "url.scheme"),
    R("http.url", "url.full"),
    N("http.target", "split it into url.path and url.query"),
    N("http.request_content_length", "use http.request.header.content-length"),
    N("http.response_content_length", "use http.response.header.content-length"),
    R("http.client_ip", "client.address"),
    N("http.host", "use server.address, client.address or http.request.header.host, whichever "
                   "it means"),
    R("http.request_content_length_uncompressed", "http.request.body.size"),
    R("http.response_content_length_uncompressed", "http.response.body.size"),
    R("http.server_name", "server.address"),
    N("http.flavor", "use network.protocol.name and network.protocol.version"),
    R("http.user_agent", "user_agent.original"),
    /* network */
    N("net.sock.peer.name", "removed, with no replacement"),
    R("net.sock.peer.addr", "network.peer.address"),
    R("net.sock.peer.port", "network.peer.port"),
    N("net.peer.name", "use server.address on client spans and client.address on server spans"),
    N("net.peer.port", "use server.port on client spans and client.port on server spans"),
    R("net.peer.ip", "network.peer.address"),
    R("net.host.name", "server.address"),
    R("net.host.ip", "network.local.address"),
    R("net.host.port", "server.port"),
    R("net.sock.host.addr", "network.local.address"),
    R("net.sock.host.port", "network.local.port"),
    R("net.transport", "network.transport"),
    R("net.protocol.name", "network.protocol.name"),
    R("net.protocol.version", "network.protocol.version"),
    N("net.sock.family", "use network.transport and network.type"),
    /* databases */
    R("db.system", "db.system.name"),
    R("db.name", "db.namespace"),
    R("db.operation", "db.operation.name"),
    R("db.statement", "db.query.text"),
    N("db.connection_string", "use server.address and server.port"),
    N("db.user", "removed, with no replacement"),
    N("db.instance.id", "removed (for Elasticsearch use db.elasticsearch.node.name)"),
    N("db.jdbc.driver_classname", "removed, with no replacement"),
    N("db.mssql.instance_name", "removed, with no replacement"),
    N("db.redis.database_index", "use db.namespace, as a string"),
    N("db.sql.table", "use db.collection.name (unless the table comes from parsing "
                      "db.query.text)"),
    R("db.mongodb.collection", "db.collection.name"),
    R("db.cassandra.table", "db.collection.name"),
    R("db.cassandra.consistency_level", "cassandra.consistency.level"),
    R("db.cassandra.coordinator.dc", "cassandra.coordinator.dc"),
    R("db.cassandra.coordinator.id", "cassandra.coordinator.id"),
    R("db.cassandra.idempotence", "cassandra.query.idempotent"),
    R("db.cassandra.page_size", "cassandra.page.size"),
    R("db.cassandra.speculative_execution_count", "cassandra.speculative_execution.count"),
    R("db.cosmosdb.container", "db.collection.name"),
    R("db.cosmosdb.client_id", "azure.client.id"),
    R("db.cosmosdb.connection_mode", "azure.cosmosdb.connection.mode"),
    R("db.cosmosdb.consistency_level", "azure.cosmosdb.consistency.level"),
    N("db.cosmosdb.operation_type", "removed, with no replacement"),
    R("db.cosmosdb.regions_contacted", "azure.cosmosdb.operation.contacted_regions"),
    R("db.cosmosdb.request_charge", "azure.cosmosdb.operation.request_charge"),
    R("db.cosmosdb.request_content_length", "azure.cosmosdb.request.body.size"),
    N("db.cosmosdb.status_code", "use db.response.status_code"),
    R("db.cosmosdb.sub_status_code", "azure.cosmosdb.response.sub_status_code"),
    R("db.elasticsearch.cluster.name", "db.namespace"),
    R("db.elasticsearch.node.name", "elasticsearch.node.name"),
    R("db.elasticsearch.path_parts", "db.operation.parameter"),
    R("db.client.connections.pool.name", "db.client.connection.pool.name"),
    R("db.client.connections.state", "db.client.connection.state"),
    /* messaging */
    R("messaging.client_id", "messaging.client.id"),
    R("messaging.operation", "messaging.operation.type"),
    N("messaging.destination_publish.name", "removed, with no replacement"),
    N("messaging.destination_publish.anonymous", "removed, with no replacement"),
    R("messaging.kafka.consumer.group", "messaging.consumer.group.name"),
    R("messaging.eventhubs.consumer.group", "messaging.consumer.group.name"),
    N("messaging.kafka.destination.partition",
      "record the partition id as a string in messaging.destination.partition.id"),
    R("messaging.kafka.message.offset", "messaging.kafka.offset"),
    N("messaging.rocketmq.client_group",
      "use messaging.consumer.group.name on consumer spans (nothing on producer spans)"),
    R("messaging.servicebus.destination.subscription_name",
      "messaging.destination.subscription.name"),
    /* RPC */
    R("rpc.system", "rpc.system.name"),
    N("rpc.service", "make it part of rpc.method, a fully qualified name"),
    N("rpc.grpc.status_code", "record the status code's name in rpc.response.status_code"),
    R("rpc.grpc.request.metadata", "rpc.request.metadata"),
    R("rpc.grpc.response.metadata", "rpc.response.metadata"),
    R("rpc.connect_rpc.error_code", "rpc.response.status_code"),
    R("rpc.connect_rpc.request.metadata", "rpc.request.metadata"),
    R("rpc.connect_rpc.response.metadata", "rpc.response.metadata"),
    N("rpc.jsonrpc.error_code", "record the code as a string in rpc.response.status_code"),
    N("rpc.jsonrpc.error_message", "put it in the span's status description"),
    R("rpc.jsonrpc.request_id", "jsonrpc.request.id"),
    R("rpc.jsonrpc.version", "jsonrpc.protocol.version"),
    N("rpc.message.compressed_size", "removed, with no replacement"),
    N("rpc.message.id", "removed, with no replacement"),
    N("rpc.message.type", "removed, with no replacement"),
    N("rpc.message.uncompressed_size", "removed, with no replacement"),
    /* code */
    R("code.column", "code.column.number"),
    R("code.filepath", "code.file.path"),
    R("code.lineno", "code.line.number"),
    N("code.function", "put it into code.function.name, a fully qualified name"),
    N("code.namespace", "put it into code.function.name, a fully qualified name"),
    /* general */
    R("peer.service", "service.peer.name"),
    R("deployment.environment", "deployment.environment.name"),
    N("enduser.role", "use user.roles"),
    N("enduser.scope", "removed, with no replacement"),
    N("error.message", "use the message attribute of the domain (such as "
                       "feature_flag.error.message) or the span's status description"),
    N("event.name", "set the log record's EventName field instead"),
    N("exception.escaped", "removed: record only exceptions that escape the span"),
    R("otel.library.name", "otel.scope.name"),
    R("otel.library.version", "otel.scope.version"),
    R("tls.client.server_name", "server.address"),
    R("feature_flag.evaluation.error.message", "feature_flag.error.message"),
    R("feature_flag.evaluation.reason", "feature_flag.result.reason"),
    R("feature_flag.provider_name", "feature_flag.provider.name"),
    R("feature_flag.variant", "feature_flag.result.variant"),
    /* hosts, processes, containers */
    R("container.runtime", "container.runtime.name"),
    R("container.cpu.state", "cpu.mode"),
    R("process.cpu.state", "cpu.mode"),
    R("process.context_switch_type", "process.context_switch.type"),
    R("process.paging.fault_type", "system.paging.fault.type"),
    R("process.executable.build_id.profiling", "process.executable.build_id.htlhash"),
    R("system.cpu.state", "cpu.mode"),
    R("system.cpu.logical_number", "cpu.logical_number"),
    R("system.network.state", "network.connection.state"),
    R("system.paging.type", "system.paging.fault.type"),
    R("system.process.status", "process.state"),
    R("system.processes.status", "process.state"),
    /* GenAI, deprecated within the GenAI conventions */
    R("gen_ai.system", "gen_ai.provider.name"),
    R("gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens"),
    R("gen_ai.usage.completion_tokens", "gen_ai.usage.output_tokens"),
    N("gen_ai.prompt", "removed, with no replacement"),
    N("gen_ai.completion", "removed, with no replacement"),
};

#undef R
#undef N

#define LINT_DEP_N (sizeof(lint_dep) / sizeof(lint_dep[0]))
#define LINT_DEP_BUCKETS 512 /* a power of two, a few times the table */

/* First the name's first two bytes against the set of the table's (most
 * attribute names of an application fail there), then buckets by length
 * and three bytes of the name: a lookup compares whole names only of equal
 * length in one bucket. */
static uint64_t lint_dep_pairs[65536 / 64]; /* bit (k[0] << 8 | k[1]) */
static uint16_t lint_dep_head[LINT_DEP_BUCKETS]; /* entry + 1, 0 = empty */
static uint16_t lint_dep_next[LINT_DEP_N];
static uint8_t lint_dep_len[LINT_DEP_N];
static size_t lint_dep_min, lint_dep_max;
static pthread_once_t lint_dep_once = PTHREAD_ONCE_INIT;

static unsigned lint_dep_bucket(const char *k, size_t n) {
    return (unsigned)(n * 131u + (uint8_t)k[0] * 31u + (uint8_t)k[n / 2] * 7u +
                      (uint8_t)k[n - 1]) &
           (LINT_DEP_BUCKETS - 1);
}

static void lint_dep_build(void) {
    lint_dep_min = SIZE_MAX;
    for (size_t i = LINT_DEP_N; i-- > 0;) {
        size_t n = strlen(lint_dep[i].name);
        unsigned b = lint_dep_bucket(lint_dep[i].name, n);
        unsigned pair = (unsigned)(uint8_t)lint_dep[i].name[0] << 8 | (uint8_t)lint_dep[i].name[1];
        lint_dep_pairs[pair / 64] |= (uint64_t)1 << (pair % 64);
        lint_dep_len[i] = (uint8_t)n;
        lint_dep_next[i] = lint_dep_head[b];
        lint_dep_head[b] = (uint16_t)(i + 1);
        if (n < lint_dep_min)
            lint_dep_min = n;
        if (n > lint_dep_max)
            lint_dep_max = n;
    }
}

const lint_deprecated *lint_deprecated_find(const char *key, size_t len) {
    pthread_once(&lint_dep_once, lint_dep_build);
    if (len < lint_dep_min || len > lint_dep_max)
        return NULL;
    unsigned pair = (unsigned)(uint8_t)key[0] << 8 | (uint8_t)key[1];
    if (!(lint_dep_pairs[pair / 64] >> (pair % 64) & 1))
        return NULL;
    for (uint16_t v = lint_dep_head[lint_dep_bucket(key, len)]; v != 0; v = lint_dep_next[v - 1])
        if (lint_dep_len[v - 1] == len && memcmp(lint_dep[v - 1].name, key, len) == 0)
            return &lint_dep[v - 1];
    return NULL;
}

const lint_deprecated *lint_deprecated_table(size_t *n) {
    *n = LINT_DEP_N;
    return lint_dep;
}

/* ---- checks on one item ---------------------------------------------------------------- */

#define LINT_UNKNOWN "unknown_service"

int lint_service_unnamed(const model_resource *r) {
    if (r == NULL || r->service_name.len == 0)
        return 1;
    size_t n = strlen(LINT_UNKNOWN);
    const model_str *s = &r->service_name;
    return s->len >= n && memcmp(s->ptr, LINT_UNKNOWN, n) == 0 && (s->len == n || s->ptr[n] == ':');
}

static int lint_str_is(const model_str *s, const char *lit, size_t n) {
    return s->len == n && memcmp(s->ptr, lit, n) == 0;
}
#define LINT_IS(s, lit) lint_str_is((s), lit, sizeof(lit) - 1)

int lint_span_error_unflagged(const model_span *sp) {
    if (sp->status_code == MODEL_STATUS_ERROR)
        return 0;
    for (size_t i = 0; i < sp->n_events; i++)
        if (LINT_IS(&sp->events[i].name, "exception"))
            return 1;
    return 0;
}

int lint_span_kind_suspect(const model_span *sp) {
    if (sp->kind != MODEL_SPAN_KIND_INTERNAL && sp->kind != MODEL_SPAN_KIND_UNSPECIFIED)
        return 0;
    int method = 0, path = 0;
    for (size_t i = 0; i < sp->attrs.n; i++) {
        const model_str *k = &sp->attrs.items[i].key;
        if (LINT_IS(k, "http.request.method") || LINT_IS(k, "http.method"))
            method = 1;
        else if (LINT_IS(k, "url.path") || LINT_IS(k, "http.route") || LINT_IS(k, "http.target"))
            path = 1;
    }
    return method && path;
}

int lint_log_unleveled(const model_log *l) { return l->severity_number == 0; }

static uint64_t lint_minus(uint64_t all, uint32_t ours) { return all > ours ? all - ours : 0; }

uint64_t lint_span_sdk_dropped(const model_span *sp) {
    uint64_t n = (uint64_t)sp->dropped_attrs + sp->dropped_events + sp->dropped_links;
    for (size_t i = 0; i < sp->n_events; i++)
        n += sp->events[i].dropped_attrs;
    for (size_t i = 0; i < sp->n_links; i++)
        n += sp->links[i].dropped_attrs;
    return lint_minus(n, sp->limited.dropped);
}

uint64_t lint_log_sdk_dropped(const model_log *l) {
    return lint_minus(l->dropped_attrs, l->limited.dropped);
}

uint64_t lint_resource_sdk_dropped(const model_resource *r) {
    return r == NULL ? 0 : lint_minus(r->dropped_attrs, r->limited.dropped);
}

/* ---- a child and its parent ---------------------------------------------------------- */

uint64_t lint_skew_ns(const lint_span_times *child, const lint_span_times *parent,
                      int *ends_after) {
    *ends_after = 0;
    if (child->kind == MODEL_SPAN_KIND_CONSUMER || parent->kind == MODEL_SPAN_KIND_PRODUCER)
        return 0;
    if (child->end < child->start || parent->end < parent->start)
        return 0;
    uint64_t before = parent->start > child->start ? parent->start - child->start : 0;
    uint64_t after = child->end > parent->end ? child->end - parent->end : 0;
    if (after > before) {
        *ends_after = 1;
        return after;
    }
    return before;
}
