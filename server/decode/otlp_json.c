/* otlp_json.c - OTLP JSON requests in, OTLP JSON answers out.
 *
 * DESIGN
 * The body is parsed with jansson, then mapped onto the protobuf-c request
 * structs by walking the generated message descriptors, so one generic
 * mapper covers every message of every signal and stays in step with the
 * .proto files. The structs live in a temporary arena (capped, see Memory);
 * their strings point into the jansson tree, which outlives them. Then the
 * shared otlp_convert_*() validates and copies everything into the batch.
 *
 * OTLP JSON rules (OTLP spec, "JSON Protobuf Encoding"): keys in
 * lowerCamelCase or the proto snake_case names; trace and span ids as hex
 * (an invalid one becomes a 1-byte id, so the converter rejects only that
 * item; "" is absent); enums as integers or value names; 64-bit integers as
 * numbers or decimal strings; doubles as numbers or "NaN", "Infinity",
 * "-Infinity"; other bytes as base64; unknown keys and nulls are ignored.
 * A known key with a value of the wrong JSON type fails the whole request
 * with the path of the field.
 *
 * Recursion is bounded: jansson refuses JSON nested deeper than
 * JSON_PARSER_MAX_DEPTH (2048), and the mapper recurses only along the
 * schema, where the one recursive type (AnyValue) is cut off after
 * OTLP_JSON_MAX_VALUE_DEPTH containers.
 *
 * Memory: a request holds three things at once: the jansson tree, the
 * temporary structs and the batch (capped by mem_limit, as otlp.h says).
 * The first two are transient and their size follows the text, not the
 * batch: real payloads take 7 to 20 times their length in jansson (compact
 * JSON of many small attributes is the worst) and less in structs, so each
 * is capped at OTLP_JSON_TREE_FACTOR times the body length plus
 * OTLP_JSON_TREE_SLACK, as otlp_pb.c caps its temporary arena; past that the
 * answer is OTLP_ETOOBIG. The tree is counted by allocator hooks (see
 * oj_tree_budget). Without these caps, 16 MiB of "{}," would grow a tree of
 * more than 1 GiB.
 *
 * Strings with an escaped NUL (\u0000) are accepted and end at the NUL, as
 * protobuf-c's char * strings do on the protobuf path.
 */
#include "otlp.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jw.h"
#include "util/utf8.h"
#include "otlp_internal.h"
#include "otlp_json_internal.h"

/* Entries of the field path kept for error messages. The schema bounds the
 * real depth (about 4 entries per AnyValue level plus the envelope). */
#define OJ_PATH_MAX 256
/* Longest field name looked up (the longest OTLP name is 26 bytes). */
#define OJ_KEY_MAX 64

typedef struct oj_frame {
    const char *key; /* NULL for an array index */
    size_t len;
    size_t index;
} oj_frame;

typedef struct oj_ctx {
    arena *arena;
    size_t limit;
    char *err;
    size_t errlen;
    size_t depth; /* entries pushed on the path (may exceed OJ_PATH_MAX) */
    oj_frame path[OJ_PATH_MAX];
} oj_ctx;

/* ---- the jansson tree's memory budget ------------------------------------ */

/* jansson allocates through these hooks for the whole process. They are
 * plain malloc/free, so objects allocated before the hooks were installed
 * (or by other modules) are freed correctly; only while this thread runs
 * json_loadb() for a request do they count the bytes and refuse to go past
 * the request's limit. */
static _Thread_local struct {
    int active;
    int exceeded;
    size_t used;
    size_t limit;
} oj_tree_budget;

static void *oj_json_malloc(size_t n) {
    if (oj_tree_budget.active) {
        if (n > oj_tree_budget.limit || oj_tree_budget.used > oj_tree_budget.limit - n) {
            oj_tree_budget.exceeded = 1;
            return NULL;
        }
        void *p = malloc(n);
        if (p != NULL)
            oj_tree_budget.used += malloc_usable_size(p);
        return p;
    }
    return malloc(n);
}

static void oj_json_free(void *p) {
    if (p != NULL && oj_tree_budget.active) {
        size_t u = malloc_usable_size(p);
        oj_tree_budget.used = oj_tree_budget.used > u ? oj_tree_budget.used - u : 0;
    }
    free(p);
}

/* Installed before main(), while the process has one thread, as jansson
 * asks (json_set_alloc_funcs() before any other use). */
__attribute__((constructor)) static void oj_install_json_hooks(void) {
    json_set_alloc_funcs(oj_json_malloc, oj_json_free);
}

/* ---- errors ------------------------------------------------------------- */

/* Appends to err at *off, keeping it NUL-terminated when truncated. */
static void oj_err_append(char *err, size_t errlen, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void oj_err_append(char *err, size_t errlen, size_t *off, const char *fmt, ...) {
    if (*off >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err + *off, errlen - *off, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *off += (size_t)n;
    if (*off >= errlen)
        *off = errlen;
}

/* The reason may quote the body (jansson's "near '...'", the excerpt of a
 * bad number, cut at 40 bytes): make it one printable line of valid UTF-8,
 * as otlp.h promises, so it can go into a log line or a protobuf string as
 * it is. Control bytes and bytes of invalid or cut UTF-8 become '?'. */
static void oj_err_clean(char *err, size_t errlen) {
    if (err == NULL || errlen == 0)
        return;
    unsigned char *s = (unsigned char *)err;
    size_t n = strnlen(err, errlen);
    size_t i = 0;
    while (i < n) {
        unsigned char ch = s[i];
        if (ch < 0x80) {
            if (ch < 0x20 || ch == 0x7F)
                s[i] = '?';
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_decode(err + i, n - i, &cp);
        if (k > 0) {
            i += k;
            continue;
        }
        s[i++] = '?';
    }
}

/* Writes "OTLP JSON: <path>: <reason>" and returns OTLP_EDECODE. */
static int oj_fail(oj_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int oj_fail(oj_ctx *c, const char *fmt, ...) {
    if (c->err == NULL || c->errlen == 0)
        return OTLP_EDECODE;
    size_t off = 0;
    oj_err_append(c->err, c->errlen, &off, "OTLP JSON: ");
    size_t n = c->depth < OJ_PATH_MAX ? c->depth : OJ_PATH_MAX;
    for (size_t i = 0; i < n; i++) {
        const oj_frame *f = &c->path[i];
        if (f->key == NULL)
            oj_err_append(c->err, c->errlen, &off, "[%zu]", f->index);
        else
            oj_err_append(c->err, c->errlen, &off, "%s%.*s", i ? "." : "", (int)f->len, f->key);
    }
    if (c->depth > OJ_PATH_MAX)
        oj_err_append(c->err, c->errlen, &off, "...");
    if (n)
        oj_err_append(c->err, c->errlen, &off, ": ");
    if (off < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + off, c->errlen - off, fmt, ap);
        va_end(ap);
    }
    return OTLP_EDECODE;
}

static const char *oj_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static int oj_type_error(oj_ctx *c, const char *want, const json_t *v) {
    return oj_fail(c, "expected %s, got %s", want, oj_type_name(v));
}

static void oj_push_key(oj_ctx *c, const char *key, size_t len) {
    if (c->depth < OJ_PATH_MAX)
        c->path[c->depth] = (oj_frame){key, len, 0};
    c->depth++;
}

static void oj_push_index(oj_ctx *c, size_t index) {
    if (c->depth < OJ_PATH_MAX)
        c->path[c->depth] = (oj_frame){NULL, 0, index};
    c->depth++;
}

static void oj_pop(oj_ctx *c) {
    c->depth--;
}

/* ---- memory ------------------------------------------------------------- */

/* Zeroed memory from the temporary arena; NULL with rc set on failure. */
static void *oj_alloc(oj_ctx *c, size_t count, size_t size, int *rc) {
    void *p = arena_calloc(c->arena, count, size);
    if (p != NULL)
        return p;
    int toobig = size != 0 && count > SIZE_MAX / size;
    if (!toobig && c->limit != 0) {
        /* Over the cap, or a real failure of malloc below it: a request
         * that fills the arena up to its cap is too big either way. */
        size_t need = count * size;
        toobig = arena_footprint(c->arena) + need + 64 * 1024 >= c->limit;
    }
    if (toobig) {
        *rc = OTLP_ETOOBIG;
        otlp_errf(c->err, c->errlen, "OTLP JSON: the request's structs would exceed %zu bytes",
                c->limit);
    } else {
        *rc = OTLP_ENOMEM;
        otlp_errf(c->err, c->errlen, "OTLP JSON: out of memory");
    }
    return NULL;
}

/* ---- scalars ------------------------------------------------------------ */

/* Parses decimal digits s[0..n). 0, -1 on bad syntax, -2 on overflow. */
static int oj_parse_digits(const char *s, size_t n, uint64_t *out) {
    if (n == 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A JSON integer, an integral JSON real, or a decimal string, into
 * [min, max]. */
static int oj_get_int(oj_ctx *c, const json_t *v, int64_t min, int64_t max, int64_t *out) {
    int64_t r;
    if (json_is_integer(v)) {
        r = (int64_t)json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d))
            return oj_fail(c, "expected an integer, got %.17g", d);
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            return oj_fail(c, "integer out of range");
        r = (int64_t)d;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        int neg = n > 0 && s[0] == '-';
        uint64_t mag;
        int prc = oj_parse_digits(s + neg, n - (size_t)neg, &mag);
        if (prc == -1)
            return oj_fail(c, "expected an integer, got the string \"%.*s\"", n > 40 ? 40 : (int)n,
                           s);
        if (prc == -2 || mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
            return oj_fail(c, "integer out of range");
        if (neg)
            r = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        else
            r = (int64_t)mag;
    } else {
        return oj_type_error(c, "an integer", v);
    }
    if (r < min || r > max)
        return oj_fail(c, "integer out of range");
    *out = r;
    return 0;
}

/* As oj_get_int() for unsigned values up to max. */
static int oj_get_uint(oj_ctx *c, const json_t *v, uint64_t max, uint64_t *out) {
    uint64_t r;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return oj_fail(c, "integer out of range");
        r = (uint64_t)i;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d))
            return oj_fail(c, "expected an integer, got %.17g", d);
        if (!(d >= 0.0 && d < 18446744073709551616.0))
            return oj_fail(c, "integer out of range");
        r = (uint64_t)d;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        int prc = oj_parse_digits(s, n, &r);
        if (prc == -1)
            return oj_fail(c, "expected an integer, got the string \"%.*s\"", n > 40 ? 40 : (int)n,
                           s);
        if (prc == -2)
            return oj_fail(c, "integer out of range");
    } else {
        return oj_type_error(c, "an integer", v);
    }
    if (r > max)
        return oj_fail(c, "integer out of range");
    *out = r;
    return 0;
}

/* A JSON number, "NaN", "Infinity", "-Infinity", or a numeric string. */
static int oj_get_double(oj_ctx *c, const json_t *v, double *out) {
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return oj_type_error(c, "a number", v);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 3 && memcmp(s, "NaN", 3) == 0) {
        *out = NAN;
        return 0;
    }
    if (n == 8 && memcmp(s, "Infinity", 8) == 0) {
        *out = INFINITY;
        return 0;
    }
    if (n == 9 && memcmp(s, "-Infinity", 9) == 0) {
        *out = -INFINITY;
        return 0;
    }
    /* Plain decimal notation only: strtod alone would also take hex floats,
     * "inf", "nan(...)" and leading spaces. */
    int digits = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9')
            digits = 1;
        else if (ch != '-' && ch != '+' && ch != '.' && ch != 'e' && ch != 'E')
            other = 1;
    }
    if (digits && !other && n < 64) {
        char tmp[64];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        char *end;
        errno = 0;
        double d = strtod(tmp, &end);
        if (end == tmp + n && !(errno == ERANGE && isinf(d))) {
            *out = d;
            return 0;
        }
    }
    return oj_fail(c, "expected a number, got the string \"%.*s\"", n > 40 ? 40 : (int)n, s);
}

/* ---- bytes -------------------------------------------------------------- */

static int oj_hexval(char ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A trace or span id in hex. "" is absent; anything that is not hex gives a
 * 1-byte id, a wrong length, so the converter rejects the item. */
static int oj_get_hex(oj_ctx *c, const json_t *v, ProtobufCBinaryData *out) {
    if (!json_is_string(v))
        return oj_type_error(c, "a hex string", v);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    int rc = OTLP_OK;
    if (n == 0) {
        out->len = 0;
        out->data = NULL;
        return 0;
    }
    int ok = n % 2 == 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = oj_hexval(s[i]) >= 0;
    size_t len = ok ? n / 2 : 1;
    uint8_t *p = oj_alloc(c, len, 1, &rc);
    if (p == NULL)
        return rc;
    if (ok) {
        for (size_t i = 0; i < len; i++)
            p[i] = (uint8_t)(oj_hexval(s[2 * i]) << 4 | oj_hexval(s[2 * i + 1]));
    }
    out->len = len;
    out->data = p;
    return 0;
}

static int oj_b64val(char ch) {
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

/* Base64, standard or URL-safe alphabet, padding optional (as proto3 JSON
 * parsers accept). */
static int oj_get_base64(oj_ctx *c, const json_t *v, ProtobufCBinaryData *out) {
    if (!json_is_string(v))
        return oj_type_error(c, "a base64 string", v);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    int rc = OTLP_OK;
    if (n % 4 == 0 && n >= 1 && s[n - 1] == '=')
        n--;
    if (n % 4 == 3 && n >= 1 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return oj_fail(c, "invalid base64");
    size_t len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    uint8_t *p = NULL;
    if (len) {
        p = oj_alloc(c, len, 1, &rc);
        if (p == NULL)
            return rc;
    }
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int d = oj_b64val(s[i]);
        if (d < 0)
            return oj_fail(c, "invalid base64");
        acc = (acc << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            p[o++] = (uint8_t)(acc >> bits);
        }
    }
    out->len = o;
    out->data = p;
    return 0;
}

/* ---- messages ----------------------------------------------------------- */

static int oj_message(oj_ctx *c, const json_t *obj, const ProtobufCMessageDescriptor *d,
                      ProtobufCMessage *m, int vdepth);

static ProtobufCMessage *oj_new_message(oj_ctx *c, const ProtobufCMessageDescriptor *d, int *rc) {
    ProtobufCMessage *m = oj_alloc(c, 1, d->sizeof_message, rc);
    if (m != NULL)
        d->message_init(m);
    return m;
}

/* Finds the field named `key` in lowerCamelCase or snake_case. */
static const ProtobufCFieldDescriptor *oj_field_lookup(const ProtobufCMessageDescriptor *d,
                                                       const char *key, size_t len) {
    char snake[OJ_KEY_MAX + 1];
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = key[i];
        if (ch == '\0' || o + 2 > OJ_KEY_MAX)
            return NULL;
        if (ch >= 'A' && ch <= 'Z') {
            snake[o++] = '_';
            ch = (char)(ch - 'A' + 'a');
        }
        snake[o++] = ch;
    }
    snake[o] = '\0';
    return protobuf_c_message_descriptor_get_field_by_name(d, snake);
}

/* Ids are the only bytes fields in hex: trace_id, span_id, parent_span_id. */
static int oj_field_is_hex(const ProtobufCFieldDescriptor *f) {
    size_t n = strlen(f->name);
    return n >= 3 && strcmp(f->name + n - 3, "_id") == 0;
}

static int oj_is_container(const ProtobufCMessageDescriptor *d) {
    return d == &opentelemetry__proto__common__v1__array_value__descriptor ||
           d == &opentelemetry__proto__common__v1__key_value_list__descriptor;
}

static size_t oj_elem_size(const ProtobufCFieldDescriptor *f) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* An enum as an integer, a numeric string or a value name. An unknown name
 * leaves *out as it was (the field reads as unspecified). */
static int oj_get_enum(oj_ctx *c, const ProtobufCFieldDescriptor *f, const json_t *v, int32_t *out) {
    int64_t i;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        uint64_t ignored;
        int numeric = oj_parse_digits(s + (n > 0 && s[0] == '-'),
                                      n - (size_t)(n > 0 && s[0] == '-'), &ignored) != -1;
        if (!numeric) {
            const ProtobufCEnumValue *ev = NULL;
            if (memchr(s, '\0', n) == NULL)
                ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, s);
            if (ev != NULL)
                *out = ev->value;
            return 0;
        }
    }
    int rc = oj_get_int(c, v, INT32_MIN, INT32_MAX, &i);
    if (rc == 0)
        *out = (int32_t)i;
    return rc;
}

/* Maps one JSON value of field f into dst (the field's storage, or one
 * element of a repeated field). */
static int oj_value(oj_ctx *c, const ProtobufCFieldDescriptor *f, const json_t *v, void *dst,
                    int vdepth) {
    int rc = OTLP_OK;
    int64_t i;
    uint64_t u;
    double d;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        rc = oj_get_int(c, v, INT32_MIN, INT32_MAX, &i);
        if (rc == 0)
            *(int32_t *)dst = (int32_t)i;
        return rc;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        rc = oj_get_uint(c, v, UINT32_MAX, &u);
        if (rc == 0)
            *(uint32_t *)dst = (uint32_t)u;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        rc = oj_get_int(c, v, INT64_MIN, INT64_MAX, &i);
        if (rc == 0)
            *(int64_t *)dst = i;
        return rc;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        rc = oj_get_uint(c, v, UINT64_MAX, &u);
        if (rc == 0)
            *(uint64_t *)dst = u;
        return rc;
    case PROTOBUF_C_TYPE_FLOAT:
        rc = oj_get_double(c, v, &d);
        if (rc == 0)
            *(float *)dst = (float)d;
        return rc;
    case PROTOBUF_C_TYPE_DOUBLE:
        rc = oj_get_double(c, v, &d);
        if (rc == 0)
            *(double *)dst = d;
        return rc;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return oj_type_error(c, "a boolean", v);
        *(protobuf_c_boolean *)dst = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return oj_get_enum(c, f, v, (int32_t *)dst);
    case PROTOBUF_C_TYPE_STRING:
        if (!json_is_string(v))
            return oj_type_error(c, "a string", v);
        /* Borrowed from the tree, which outlives the structs. */
        *(char **)dst = (char *)json_string_value(v);
        return 0;
    case PROTOBUF_C_TYPE_BYTES:
        if (oj_field_is_hex(f))
            return oj_get_hex(c, v, dst);
        return oj_get_base64(c, v, dst);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *md = f->descriptor;
        if (!json_is_object(v))
            return oj_type_error(c, "an object", v);
        ProtobufCMessage *m = oj_new_message(c, md, &rc);
        if (m == NULL)
            return rc;
        *(ProtobufCMessage **)dst = m;
        if (oj_is_container(md)) {
            vdepth++;
            /* Too deep: leave this container empty; it is still one level
             * past the limit, so the converter rejects the item. */
            if (vdepth > OTLP_JSON_MAX_VALUE_DEPTH)
                return 0;
        }
        return oj_message(c, v, md, m, vdepth);
    }
    }
    return oj_fail(c, "unsupported field type");
}

static int oj_repeated(oj_ctx *c, const ProtobufCFieldDescriptor *f, const json_t *arr,
                       ProtobufCMessage *m, int vdepth) {
    if (!json_is_array(arr))
        return oj_type_error(c, "an array", arr);
    size_t n = json_array_size(arr);
    size_t esz = oj_elem_size(f);
    unsigned char *items = NULL;
    size_t count = 0;
    int rc = OTLP_OK;
    if (n > 0) {
        items = oj_alloc(c, n, esz, &rc);
        if (items == NULL)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        if (json_is_null(v)) {
            /* A null message is skipped as absent; a null number would
             * shift the others (bucket counts, bounds), so it is refused. */
            if (f->type == PROTOBUF_C_TYPE_MESSAGE)
                continue;
            oj_push_index(c, i);
            rc = oj_fail(c, "null is not allowed here");
            oj_pop(c);
            return rc;
        }
        oj_push_index(c, i);
        rc = oj_value(c, f, v, items + count * esz, vdepth);
        oj_pop(c);
        if (rc != OTLP_OK)
            return rc;
        count++;
    }
    *(size_t *)((char *)m + f->quantifier_offset) = count;
    *(void **)((char *)m + f->offset) = items;
    return OTLP_OK;
}

static int oj_field(oj_ctx *c, const ProtobufCFieldDescriptor *f, const json_t *v,
                    ProtobufCMessage *m, int vdepth) {
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return oj_repeated(c, f, v, m, vdepth);
    int rc = oj_value(c, f, v, (char *)m + f->offset, vdepth);
    if (rc != OTLP_OK)
        return rc;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)((char *)m + f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
             f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
    return OTLP_OK;
}

static int oj_message(oj_ctx *c, const json_t *obj, const ProtobufCMessageDescriptor *d,
                      ProtobufCMessage *m, int vdepth) {
    if (!json_is_object(obj))
        return oj_type_error(c, "an object", obj);
    /* jansson's iterator API takes a non-const object but does not change
     * it while iterating. */
    json_t *o = (json_t *)obj;
    for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        const json_t *v = json_object_iter_value(it);
        if (json_is_null(v))
            continue;
        const ProtobufCFieldDescriptor *f = oj_field_lookup(d, key, klen);
        if (f == NULL)
            continue; /* unknown fields are ignored */
        oj_push_key(c, key, klen);
        int rc = oj_field(c, f, v, m, vdepth);
        oj_pop(c);
        if (rc != OTLP_OK)
            return rc;
    }
    return OTLP_OK;
}

/* ---- requests ----------------------------------------------------------- */

size_t otlp_json_transient_limit(size_t len) {
    if (len > (SIZE_MAX - OTLP_JSON_TREE_SLACK) / OTLP_JSON_TREE_FACTOR)
        return SIZE_MAX;
    return len * OTLP_JSON_TREE_FACTOR + OTLP_JSON_TREE_SLACK;
}

void otlp_json_doc_free(otlp_json_doc *doc) {
    if (doc == NULL)
        return;
    arena_free(doc->arena);
    if (doc->root != NULL)
        json_decref(doc->root);
    doc->arena = NULL;
    doc->root = NULL;
    doc->msg = NULL;
}

int otlp_json_doc_parse(otlp_json_doc *doc, model_signal sig, const char *data, size_t len,
                        size_t limit, char *err, size_t errlen) {
    memset(doc, 0, sizeof(*doc));
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(sig);
    if (d == NULL) {
        otlp_errf(err, errlen, "OTLP JSON: unknown signal");
        return OTLP_EDECODE;
    }

    json_error_t jerr;
    size_t tree_limit = otlp_json_transient_limit(len);
    oj_tree_budget.active = 1;
    oj_tree_budget.exceeded = 0;
    oj_tree_budget.used = 0;
    oj_tree_budget.limit = tree_limit;
    doc->root = json_loadb(data != NULL ? data : "", len, JSON_ALLOW_NUL, &jerr);
    oj_tree_budget.active = 0;
    if (oj_tree_budget.exceeded) {
        otlp_json_doc_free(doc); /* in case jansson kept a partial tree */
        otlp_errf(err, errlen,
                "OTLP JSON: the request's JSON tree would exceed %zu bytes (%d times its length)",
                tree_limit, OTLP_JSON_TREE_FACTOR);
        return OTLP_ETOOBIG;
    }
    if (doc->root == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            otlp_errf(err, errlen, "OTLP JSON: out of memory");
            return OTLP_ENOMEM;
        }
        otlp_errf(err, errlen, "OTLP JSON: invalid JSON: %s (line %d, column %d, byte %d)",
                jerr.text, jerr.line, jerr.column, jerr.position);
        oj_err_clean(err, errlen);
        return OTLP_EDECODE;
    }
    if (!json_is_object(doc->root)) {
        otlp_errf(err, errlen, "OTLP JSON: the request must be a JSON object, got %s",
                oj_type_name(doc->root));
        otlp_json_doc_free(doc);
        return OTLP_EDECODE;
    }

    /* Small chunks under a small cap, so the first chunk fits in it. */
    size_t chunk = 64 * 1024;
    if (limit != 0 && limit / 4 < chunk)
        chunk = limit / 4 > 1024 ? limit / 4 : 1024;
    doc->arena = arena_new(chunk, limit);
    if (doc->arena == NULL) {
        otlp_json_doc_free(doc);
        otlp_errf(err, errlen, "OTLP JSON: out of memory");
        return OTLP_ENOMEM;
    }

    oj_ctx *c = calloc(1, sizeof(*c)); /* the path is too big for a small stack */
    if (c == NULL) {
        otlp_json_doc_free(doc);
        otlp_errf(err, errlen, "OTLP JSON: out of memory");
        return OTLP_ENOMEM;
    }
    c->arena = doc->arena;
    c->limit = limit;
    c->err = err;
    c->errlen = errlen;
    int rc = OTLP_OK;
    doc->msg = oj_new_message(c, d, &rc);
    if (doc->msg != NULL)
        rc = oj_message(c, doc->root, d, doc->msg, 0);
    free(c);
    if (rc != OTLP_OK) {
        otlp_json_doc_free(doc);
        oj_err_clean(err, errlen);
    }
    return rc;
}

int otlp_decode_json(model_signal sig, const char *data, size_t len, size_t mem_limit,
                     model_batch **out, char *err, size_t errlen) {
    otlp_json_doc doc;
    model_batch *b = NULL;
    *out = NULL;
    /* mem_limit is the batch's; the structs are capped like the tree. */
    int rc = otlp_json_doc_parse(&doc, sig, data, len, otlp_json_transient_limit(len), err,
                                 errlen);
    if (rc != OTLP_OK)
        return rc;
    b = model_batch_new(sig, mem_limit);
    if (b == NULL) {
        /* The batch arena's first chunk did not fit under mem_limit, or
         * malloc failed: an uncapped batch tells which. */
        model_batch *probe = mem_limit != 0 ? model_batch_new(sig, 0) : NULL;
        rc = probe != NULL ? OTLP_ETOOBIG : OTLP_ENOMEM;
        model_batch_free(probe);
        if (rc == OTLP_ETOOBIG)
            otlp_errf(err, errlen, "OTLP JSON: the memory limit of %zu bytes is too small for a batch",
                    mem_limit);
        else
            otlp_errf(err, errlen, "OTLP JSON: out of memory");
        goto out;
    }
    switch (sig) {
    case MODEL_SIGNAL_TRACES:
        rc = otlp_convert_traces(
            (const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *)doc.msg,
            b);
        break;
    case MODEL_SIGNAL_LOGS:
        rc = otlp_convert_logs(
            (const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *)doc.msg, b);
        break;
    case MODEL_SIGNAL_METRICS:
        rc = otlp_convert_metrics(
            (const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *)
                doc.msg,
            b);
        break;
    }
    if (rc == OTLP_ETOOBIG)
        otlp_errf(err, errlen, "OTLP JSON: decoded batch exceeds the memory limit of %zu bytes",
                mem_limit);
    else if (rc == OTLP_ENOMEM)
        otlp_errf(err, errlen, "OTLP JSON: out of memory");
    else if (rc != OTLP_OK)
        otlp_errf(err, errlen, "OTLP JSON: conversion failed (%d)", rc);
out:
    otlp_json_doc_free(&doc);
    if (rc != OTLP_OK) {
        model_batch_free(b);
        return rc;
    }
    *out = b;
    return OTLP_OK;
}

/* ---- answers ------------------------------------------------------------ */

/* Finishes a jw answer: on failure the buf is put back as it was. */
static int oj_finish(jw *w, buf *out, size_t start) {
    int e = jw_error(w);
    if (e == 0)
        return OTLP_OK;
    if (out->ptr != NULL && out->len > start) {
        out->len = start;
        out->ptr[start] = '\0';
    }
    return e == BUF_ETOOBIG ? OTLP_ETOOBIG : OTLP_ENOMEM;
}

int otlp_response_json(model_signal sig, int64_t rejected, const char *message, buf *out) {
    const char *field;
    switch (sig) {
    case MODEL_SIGNAL_TRACES:
        field = "rejectedSpans";
        break;
    case MODEL_SIGNAL_LOGS:
        field = "rejectedLogRecords";
        break;
    case MODEL_SIGNAL_METRICS:
        field = "rejectedDataPoints";
        break;
    default:
        return OTLP_EDECODE;
    }
    size_t start = out->len;
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    if (rejected != 0) {
        /* int64 is a decimal string in proto3 JSON. */
        char num[24];
        snprintf(num, sizeof(num), "%" PRId64, rejected);
        jw_key(&w, "partialSuccess");
        jw_object_begin(&w);
        jw_key(&w, field);
        jw_string(&w, num);
        if (message != NULL && message[0] != '\0') {
            jw_key(&w, "errorMessage");
            jw_string(&w, message);
        }
        jw_object_end(&w);
    }
    jw_object_end(&w);
    return oj_finish(&w, out, start);
}

int otlp_status_json(int32_t grpc_code, const char *message, buf *out) {
    size_t start = out->len;
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "code");
    jw_int(&w, grpc_code);
    if (message != NULL && message[0] != '\0') {
        jw_key(&w, "message");
        jw_string(&w, message);
    }
    jw_object_end(&w);
    return oj_finish(&w, out, start);
}
