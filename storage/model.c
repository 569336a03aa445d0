/* model.c - batch lifetime and validation helpers of the internal model. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

const model_str model_str_empty = {"", 0};

model_batch *model_batch_new(model_signal signal, size_t limit) {
    arena *a = arena_new(0, limit);
    if (a == NULL)
        return NULL;
    model_batch *b = arena_calloc(a, 1, sizeof(*b));
    if (b == NULL) {
        arena_free(a);
        return NULL;
    }
    b->signal = signal;
    b->arena = a;
    b->reject_message = model_str_empty;
    return b;
}

void model_batch_free(model_batch *b) {
    if (b == NULL)
        return;
    arena_free(b->arena); /* the batch itself lives in its arena */
}

size_t model_batch_items(const model_batch *b) {
    switch (b->signal) {
    case MODEL_SIGNAL_TRACES:
        return b->n_spans;
    case MODEL_SIGNAL_LOGS:
        return b->n_logs;
    case MODEL_SIGNAL_METRICS:
        return b->n_points;
    }
    return 0;
}

size_t model_batch_bytes(const model_batch *b) {
    return arena_footprint(b->arena);
}

void model_batch_reject(model_batch *b, const char *message) {
    if (b->rejected++ == 0 && message != NULL) {
        model_str s;
        if (model_str_dup(b, &s, message, strlen(message)) == 0)
            b->reject_message = s;
    }
}

int model_str_dup(model_batch *b, model_str *out, const char *s, size_t len) {
    if (len == 0) {
        *out = model_str_empty;
        return 0;
    }
    char *p = arena_strndup(b->arena, s, len);
    if (p == NULL)
        return -1;
    out->ptr = p;
    out->len = len;
    return 0;
}

const model_value *model_attrs_get(const model_attrs *a, const char *key) {
    size_t n = strlen(key);
    for (size_t i = 0; i < a->n; i++) {
        const model_kv *kv = &a->items[i];
        if (kv->key.len == n && memcmp(kv->key.ptr, key, n) == 0)
            return &kv->value;
    }
    return NULL;
}

int model_utf8_valid(const char *s, size_t len) {
    return utf8_valid(s, len);
}

int model_id_is_zero(const uint8_t *id, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (id[i])
            return 0;
    return 1;
}

void model_hex_encode(const uint8_t *id, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 0x0F];
    }
    out[2 * n] = '\0';
}

static int model_hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int model_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n) {
    if (hexlen != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = model_hex_digit(hex[2 * i]);
        int lo = model_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    return 0;
}

const char *model_span_kind_name(model_span_kind kind) {
    static const char *names[] = {"UNSPECIFIED", "INTERNAL", "SERVER",
                                  "CLIENT",      "PRODUCER", "CONSUMER"};
    if ((unsigned)kind < sizeof(names) / sizeof(names[0]))
        return names[kind];
    return "UNSPECIFIED";
}

const char *model_status_code_name(model_status_code code) {
    switch (code) {
    case MODEL_STATUS_OK:
        return "OK";
    case MODEL_STATUS_ERROR:
        return "ERROR";
    default:
        return "UNSET";
    }
}

const char *model_metric_type_name(model_metric_type type) {
    static const char *names[] = {"gauge", "sum", "histogram", "exponential_histogram",
                                  "summary"};
    if ((unsigned)type < sizeof(names) / sizeof(names[0]))
        return names[type];
    return "gauge";
}

const char *model_temporality_name(model_temporality t) {
    switch (t) {
    case MODEL_TEMPORALITY_DELTA:
        return "delta";
    case MODEL_TEMPORALITY_CUMULATIVE:
        return "cumulative";
    default:
        return "unspecified";
    }
}

const char *model_signal_name(model_signal s) {
    switch (s) {
    case MODEL_SIGNAL_TRACES:
        return "traces";
    case MODEL_SIGNAL_LOGS:
        return "logs";
    case MODEL_SIGNAL_METRICS:
        return "metrics";
    }
    return "unknown";
}
