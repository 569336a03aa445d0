/* gen.c - fresh, realistic OTLP export requests for the load generator.
 *
 * The world: eight services of a small shop (frontend, cart, catalog,
 * checkout, payment, shipping, recommendation, currency), three instances
 * each, with the resource attributes SDKs send (service.*, telemetry.sdk.*,
 * host.name, process.pid, ...). A request is a batch as a collector would
 * forward it: for each service one instance's resource with its spans or
 * log records.
 *
 * Traces: fresh random trace and span ids; a few to ~20 spans from a SERVER
 * root, grown by HTTP calls (a CLIENT span and the callee's SERVER span),
 * database calls (CLIENT, db.* attributes and query text) and INTERNAL
 * spans, each inside its parent's time; ~10 attributes a span as the
 * OpenTelemetry semantic conventions name them, with high-cardinality user
 * and request ids; some errors with status messages and exception events.
 * A request holds exactly `items` spans: the last trace is cut short.
 *
 * Logs: severities from DEBUG to ERROR, bodies with unique tokens (ids,
 * numbers, durations, quoted values, IP addresses), trace and span ids on
 * about half, and a few attributes.
 *
 * Everything of one request lives in one arena, reset for the next one;
 * keys and fixed strings point at constants (protobuf-c only reads them).
 * Out of memory aborts: this is a benchmark tool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"
#include "otlp_build.h"
#include "util/arena.h"

#define N_SVC 8
#define N_INST 3
#define MAX_TRACE 20

/* ---- random numbers: xoshiro256** seeded through splitmix64 ------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), n > 0. */
static uint32_t rng_below(rng *r, uint32_t n) {
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* 1 with probability pct/1000. */
static int rng_permille(rng *r, uint32_t pm) {
    return rng_below(r, 1000) < pm;
}

/* ---- the world ----------------------------------------------------------- */

typedef struct route_def {
    const char *method;
    const char *route;     /* at most one {placeholder} */
    const char *id_prefix; /* the placeholder's value: this and a number; "user-":
                              the trace's user */
    int id_hex;            /* the number in 8 hex digits, else decimal */
} route_def;

typedef struct query_def {
    const char *op;
    const char *collection; /* NULL for a key-value store */
    const char *text;       /* SQL; NULL for a key-value store: op, key and the user's number */
    const char *key;
    const char *args;
} query_def;

typedef struct op_def {
    const char *name; /* span name */
    const char *function;
    const char *file;
} op_def;

typedef struct svc_def {
    const char *name, *version, *lang, *sdk_version, *runtime, *scope, *scope_version;
    const char *user_agent; /* its HTTP client's */
    route_def routes[7];
    int n_routes;
    int callees[4];
    int n_callees;
    const char *db_system; /* NULL: no database */
    const char *db_namespace, *db_host;
    int db_port;
    query_def queries[4];
    int n_queries;
    op_def ops[2];
} svc_def;

enum { FRONTEND, CART, CATALOG, CHECKOUT, PAYMENT, SHIPPING, RECOMMENDATION, CURRENCY };

static const svc_def services[N_SVC] = {
    [FRONTEND] = {.name = "frontend",
                  .user_agent = "node",
                  .version = "2.4.1",
                  .lang = "nodejs",
                  .sdk_version = "1.30.1",
                  .runtime = "nodejs",
                  .scope = "@opentelemetry/instrumentation-http",
                  .scope_version = "0.57.2",
                  .routes = {{"GET", "/", NULL, 0},
                             {"GET", "/api/products", NULL, 0},
                             {"GET", "/api/products/{productId}", "", 0},
                             {"POST", "/api/cart", NULL, 0},
                             {"GET", "/api/cart", NULL, 0},
                             {"POST", "/api/checkout", NULL, 0},
                             {"GET", "/api/recommendations", NULL, 0}},
                  .n_routes = 7,
                  .callees = {CART, CATALOG, CHECKOUT, RECOMMENDATION},
                  .n_callees = 4,
                  .ops = {{"render product page", "renderProductPage",
                           "/app/src/pages/product.tsx"},
                          {"build session", "buildSession", "/app/src/server/session.ts"}}},
    [CART] = {.name = "cart",
              .user_agent = "HttpClient",
              .version = "1.9.0",
              .lang = "dotnet",
              .sdk_version = "1.11.2",
              .runtime = ".NET",
              .scope = "OpenTelemetry.Instrumentation.AspNetCore",
              .scope_version = "1.11.1",
              .routes = {{"GET", "/cart/{userId}", "user-", 0},
                         {"POST", "/cart/{userId}/items", "user-", 0},
                         {"DELETE", "/cart/{userId}", "user-", 0}},
              .n_routes = 3,
              .db_system = "redis",
              .db_namespace = "0",
              .db_host = "redis-cart",
              .db_port = 6379,
              .queries = {{"HGETALL", NULL, NULL, "cart:user-", ""},
                          {"HSET", NULL, NULL, "cart:user-", " ? ?"},
                          {"EXPIRE", NULL, NULL, "cart:user-", " ?"}},
              .n_queries = 3,
              .ops = {{"compute cart total", "Cart.Services.CartService.ComputeTotal",
                       "/src/CartService.cs"},
                      {"validate cart item", "Cart.Services.CartService.Validate",
                       "/src/CartService.cs"}}},
    [CATALOG] = {.name = "catalog",
                 .user_agent = "Go-http-client/1.1",
                 .version = "3.1.7",
                 .lang = "go",
                 .sdk_version = "1.35.0",
                 .runtime = "go",
                 .scope = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
                 .scope_version = "0.60.0",
                 .routes = {{"GET", "/products", NULL, 0}, {"GET", "/products/{productId}", "", 0}},
                 .n_routes = 2,
                 .db_system = "postgresql",
                 .db_namespace = "shop",
                 .db_host = "postgres-catalog",
                 .db_port = 5432,
                 .queries = {{"SELECT", "products",
                              "SELECT id, name, price_cents FROM products WHERE id = $1", NULL,
                              NULL},
                             {"SELECT", "products",
                              "SELECT id, name FROM products WHERE category = $1 ORDER BY rank "
                              "LIMIT 20",
                              NULL, NULL},
                             {"SELECT", "stock", "SELECT qty FROM stock WHERE product_id = $1",
                              NULL, NULL}},
                 .n_queries = 3,
                 .ops = {{"decode product", "catalog.(*Store).decodeProduct",
                          "/src/catalog/store.go"},
                         {"rank products", "catalog.rankProducts", "/src/catalog/rank.go"}}},
    [CHECKOUT] = {.name = "checkout",
                  .user_agent = "Go-http-client/1.1",
                  .version = "1.12.3",
                  .lang = "go",
                  .sdk_version = "1.35.0",
                  .runtime = "go",
                  .scope = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
                  .scope_version = "0.60.0",
                  .routes = {{"POST", "/checkout/{orderId}", "ord-", 1}},
                  .n_routes = 1,
                  .callees = {CART, PAYMENT, SHIPPING, CURRENCY},
                  .n_callees = 4,
                  .db_system = "postgresql",
                  .db_namespace = "shop",
                  .db_host = "postgres-orders",
                  .db_port = 5432,
                  .queries = {{"INSERT", "orders",
                               "INSERT INTO orders (id, user_id, total_cents) VALUES ($1, $2, $3)",
                               NULL, NULL},
                              {"UPDATE", "orders", "UPDATE orders SET status = $1 WHERE id = $2",
                               NULL, NULL}},
                  .n_queries = 2,
                  .ops = {{"prepare order", "checkout.(*Service).prepareOrder",
                           "/src/checkout/order.go"},
                          {"send confirmation", "checkout.sendConfirmation",
                           "/src/checkout/mail.go"}}},
    [PAYMENT] = {.name = "payment",
                 .user_agent = "okhttp/4.12.0",
                 .version = "5.0.2",
                 .lang = "java",
                 .sdk_version = "1.49.0",
                 .runtime = "OpenJDK Runtime Environment",
                 .scope = "io.opentelemetry.spring-webmvc-6.0",
                 .scope_version = "2.15.0-alpha",
                 .routes = {{"POST", "/payments/{paymentId}", "pay-", 1}},
                 .n_routes = 1,
                 .db_system = "postgresql",
                 .db_namespace = "payments",
                 .db_host = "postgres-payments",
                 .db_port = 5432,
                 .queries = {{"SELECT", "payments",
                              "SELECT status FROM payments WHERE order_id = ? FOR UPDATE", NULL,
                              NULL},
                             {"INSERT", "payments",
                              "INSERT INTO payments (id, order_id, amount_cents, status) VALUES "
                              "(?, ?, ?, ?)",
                              NULL, NULL}},
                 .n_queries = 2,
                 .ops = {{"charge card", "com.shop.payment.CardService.charge", "CardService.java"},
                         {"fraud check", "com.shop.payment.FraudCheck.score", "FraudCheck.java"}}},
    [SHIPPING] = {.name = "shipping",
                  .user_agent = "reqwest/0.12",
                  .version = "0.8.4",
                  .lang = "rust",
                  .sdk_version = "0.27.1",
                  .runtime = "rustc",
                  .scope = "opentelemetry-http",
                  .scope_version = "0.27.0",
                  .routes = {{"POST", "/quotes", NULL, 0},
                             {"POST", "/shipments/{orderId}", "ord-", 1}},
                  .n_routes = 2,
                  .ops = {{"quote parcel", "shipping::quote::parcel", "src/quote.rs"},
                          {"pick carrier", "shipping::carrier::pick", "src/carrier.rs"}}},
    [RECOMMENDATION] =
        {.name = "recommendation",
         .user_agent = "python-requests/2.32.3",
         .version = "1.3.0",
         .lang = "python",
         .sdk_version = "1.32.1",
         .runtime = "cpython",
         .scope = "opentelemetry.instrumentation.flask",
         .scope_version = "0.53b1",
         .routes = {{"GET", "/recommendations/{userId}", "user-", 0}},
         .n_routes = 1,
         .callees = {CATALOG},
         .n_callees = 1,
         .db_system = "redis",
         .db_namespace = "1",
         .db_host = "redis-reco",
         .db_port = 6379,
         .queries = {{"GET", NULL, NULL, "reco:user-", ""},
                     {"SETEX", NULL, NULL, "reco:user-", " ? ?"}},
         .n_queries = 2,
         .ops = {{"score candidates", "recommend.model.score", "/app/recommend/model.py"},
                 {"filter seen", "recommend.filters.seen", "/app/recommend/filters.py"}}},
    [CURRENCY] = {.name = "currency",
                  .user_agent = "curl/7.88.1",
                  .version = "1.0.9",
                  .lang = "cpp",
                  .sdk_version = "1.19.0",
                  .runtime = "cpp",
                  .scope = "opentelemetry-cpp/http",
                  .scope_version = "1.19.0",
                  .routes = {{"GET", "/convert/{currency}", "EUR", 0}},
                  .n_routes = 1,
                  .ops = {{"load rates", "CurrencyService::LoadRates", "src/currency.cc"},
                          {"convert amount", "CurrencyService::Convert", "src/currency.cc"}}},
};

static const char *const browser_agents[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
    "Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
};

/* exception.type and the start of its message */
static const char *const exceptions[][2] = {
    {"java.net.SocketTimeoutException", "Read timed out"},
    {"TimeoutError", "upstream did not answer"},
    {"ConnectionRefusedError", "[Errno 111] connection refused"},
    {"System.InvalidOperationException", "cart is locked by another request"},
};

struct lg_gen {
    lg_signal sig;
    uint32_t items;
    rng r;
    arena *world; /* resources and scopes, for the generator's life */
    arena *req;   /* one request's structs, reset per request */
    tb_resource *resources[N_SVC][N_INST];
    tb_scope *scopes[N_SVC];
    uint32_t inst[N_SVC]; /* this request's instance of each service */
};

/* ---- building blocks ----------------------------------------------------- */

static void *g_alloc(arena *a, size_t n) {
    void *p = arena_alloc(a, n);
    if (p == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        abort();
    }
    return p;
}

static char *g_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *g_printf(arena *a, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(tmp))
        n = (int)sizeof(tmp) - 1;
    char *s = g_alloc(a, (size_t)n + 1);
    memcpy(s, tmp, (size_t)n + 1);
    return s;
}

/* n random bytes (n <= 16) in the arena. */
static ProtobufCBinaryData g_id(lg_gen *g, size_t n) {
    ProtobufCBinaryData d;
    d.data = g_alloc(g->req, 16);
    uint64_t a = rng_next(&g->r), b = rng_next(&g->r);
    memcpy(d.data, &a, 8);
    memcpy(d.data + 8, &b, 8);
    d.len = n;
    return d;
}

static void hex16(char out[17], uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 15];
        v >>= 4;
    }
    out[16] = '\0';
}

static tb_any *v_str(arena *a, const char *s) {
    tb_any *v = g_alloc(a, sizeof(*v));
    *v = (tb_any)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = (char *)s;
    return v;
}

static tb_any *v_int(arena *a, int64_t i) {
    tb_any *v = g_alloc(a, sizeof(*v));
    *v = (tb_any)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    v->int_value = i;
    return v;
}

static tb_any *v_bool(arena *a, int b) {
    tb_any *v = g_alloc(a, sizeof(*v));
    *v = (tb_any)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    v->bool_value = b;
    return v;
}

static tb_any *v_double(arena *a, double d) {
    tb_any *v = g_alloc(a, sizeof(*v));
    *v = (tb_any)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    v->double_value = d;
    return v;
}

/* A string array of one element (http.request.header.* attributes). */
static tb_any *v_str1(arena *a, const char *s) {
    Opentelemetry__Proto__Common__V1__ArrayValue *arr = g_alloc(a, sizeof(*arr));
    *arr = (Opentelemetry__Proto__Common__V1__ArrayValue)
        OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    arr->n_values = 1;
    arr->values = g_alloc(a, sizeof(tb_any *));
    arr->values[0] = v_str(a, s);
    tb_any *v = g_alloc(a, sizeof(*v));
    *v = (tb_any)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    v->array_value = arr;
    return v;
}

/* Attributes under construction: a bounded list, copied into the arena. */
typedef struct attrs {
    tb_kv *kv[24];
    size_t n;
} attrs;

static void attr(arena *a, attrs *l, const char *key, tb_any *value) {
    if (l->n == sizeof(l->kv) / sizeof(l->kv[0]))
        abort(); /* a generator bug, not an input */
    tb_kv *kv = g_alloc(a, sizeof(*kv));
    *kv = (tb_kv)OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    kv->key = (char *)key;
    kv->value = value;
    l->kv[l->n++] = kv;
}

static tb_kv **attrs_copy(arena *a, const attrs *l, size_t *n) {
    *n = l->n;
    tb_kv **out = g_alloc(a, l->n * sizeof(*out));
    memcpy(out, l->kv, l->n * sizeof(*out));
    return out;
}

static uint64_t now_unix_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- the world's resources ---------------------------------------------- */

static tb_resource *world_resource(lg_gen *g, rng *wr, int s) {
    const svc_def *d = &services[s];
    arena *a = g->world;
    char hex[17];
    uint64_t u1 = rng_next(wr), u2 = rng_next(wr);
    hex16(hex, u1);
    char *instance = g_printf(a, "%.8s-%.4s-4%.3s-%04x-%012llx", hex, hex + 8, hex + 12,
                              (unsigned)(0x8000 | (u2 & 0x3fff)),
                              (unsigned long long)((u2 >> 16) & 0xffffffffffffULL));
    hex16(hex, rng_next(wr));
    char *host = g_printf(a, "%s-%.10s-%.5s", d->name, hex, hex + 10);
    attrs l = {.n = 0};
    attr(a, &l, "service.name", v_str(a, d->name));
    attr(a, &l, "service.version", v_str(a, d->version));
    attr(a, &l, "service.namespace", v_str(a, "shop"));
    attr(a, &l, "service.instance.id", v_str(a, instance));
    attr(a, &l, "deployment.environment.name", v_str(a, "production"));
    attr(a, &l, "telemetry.sdk.name", v_str(a, "opentelemetry"));
    attr(a, &l, "telemetry.sdk.language", v_str(a, d->lang));
    attr(a, &l, "telemetry.sdk.version", v_str(a, d->sdk_version));
    attr(a, &l, "host.name", v_str(a, host));
    attr(a, &l, "host.arch", v_str(a, "amd64"));
    attr(a, &l, "os.type", v_str(a, "linux"));
    attr(a, &l, "process.pid", v_int(a, 1 + (int64_t)rng_below(wr, 60000)));
    attr(a, &l, "process.runtime.name", v_str(a, d->runtime));
    tb_resource *r = g_alloc(a, sizeof(*r));
    *r = (tb_resource)OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    r->attributes = attrs_copy(a, &l, &r->n_attributes);
    return r;
}

lg_gen *lg_gen_new(lg_signal sig, uint64_t world_seed, uint64_t seed, uint32_t items) {
    lg_gen *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->sig = sig;
    g->items = items;
    rng_seed(&g->r, seed);
    g->world = arena_new(64 << 10, 0);
    g->req = arena_new(8 << 20, 0);
    if (g->world == NULL || g->req == NULL) {
        lg_gen_free(g);
        return NULL;
    }
    rng wr;
    rng_seed(&wr, world_seed);
    for (int s = 0; s < N_SVC; s++) {
        for (int i = 0; i < N_INST; i++)
            g->resources[s][i] = world_resource(g, &wr, s);
        tb_scope *sc = g_alloc(g->world, sizeof(*sc));
        *sc = (tb_scope)OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
        sc->name = (char *)services[s].scope;
        sc->version = (char *)services[s].scope_version;
        g->scopes[s] = sc;
    }
    return g;
}

void lg_gen_free(lg_gen *g) {
    if (g == NULL)
        return;
    arena_free(g->world);
    arena_free(g->req);
    free(g);
}

/* ---- traces -------------------------------------------------------------- */

/* What a trace's spans share and what growing it needs. */
typedef struct trace_ctx {
    ProtobufCBinaryData trace_id;
    char *request_id; /* both in the request's arena: attributes point at them */
    char *user;
    uint32_t user_n;
    tb_span *spans[MAX_TRACE];
    int svc[MAX_TRACE];
    int n;
    int servers[MAX_TRACE]; /* indexes of SERVER spans: parents of new spans */
    int n_servers;
} trace_ctx;

static tb_span *span_new(lg_gen *g, trace_ctx *t, int svc, const tb_span *parent,
                         Opentelemetry__Proto__Trace__V1__Span__SpanKind kind, const char *name,
                         uint64_t start, uint64_t end) {
    tb_span *sp = g_alloc(g->req, sizeof(*sp));
    *sp = (tb_span)OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
    sp->trace_id = t->trace_id;
    sp->span_id = g_id(g, 8);
    if (parent != NULL)
        sp->parent_span_id = parent->span_id;
    sp->flags = 0x101; /* sampled; parent known to be local (HAS_IS_REMOTE, not
                          IS_REMOTE) */
    sp->kind = kind;
    sp->name = (char *)name;
    sp->start_time_unix_nano = start;
    sp->end_time_unix_nano = end;
    t->spans[t->n] = sp;
    t->svc[t->n] = svc;
    t->n++;
    return sp;
}

static void span_status(lg_gen *g, tb_span *sp, int error, const char *message) {
    tb_status *st = g_alloc(g->req, sizeof(*st));
    *st = (tb_status)OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
    st->code = error ? OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR
                     : OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_UNSET;
    if (message != NULL)
        st->message = (char *)message;
    sp->status = st;
}

/* An exception event and an ERROR status with its message. */
static void span_exception(lg_gen *g, trace_ctx *t, tb_span *sp) {
    arena *a = g->req;
    uint32_t k = rng_below(&g->r, sizeof(exceptions) / sizeof(exceptions[0]));
    uint32_t ms = 100 + rng_below(&g->r, 9900);
    char *msg = g_printf(a, "%s after %u ms (request %s)", exceptions[k][1], ms, t->request_id);
    attrs l = {.n = 0};
    attr(a, &l, "exception.type", v_str(a, exceptions[k][0]));
    attr(a, &l, "exception.message", v_str(a, msg));
    attr(a, &l, "exception.stacktrace",
         v_str(a, g_printf(a,
                           "%s: %s\n    at handler (%s:%u)\n    at dispatch (router:%u)\n"
                           "    at serve (server:%u)",
                           exceptions[k][0], msg, sp->name, 10 + rng_below(&g->r, 400),
                           10 + rng_below(&g->r, 400), 10 + rng_below(&g->r, 400))));
    tb_event *ev = g_alloc(a, sizeof(*ev));
    *ev = (tb_event)OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
    ev->name = (char *)"exception";
    ev->time_unix_nano =
        sp->end_time_unix_nano - (sp->end_time_unix_nano - sp->start_time_unix_nano) / 8;
    ev->attributes = attrs_copy(a, &l, &ev->n_attributes);
    sp->n_events = 1;
    sp->events = g_alloc(a, sizeof(tb_event *));
    sp->events[0] = ev;
    span_status(g, sp, 1, msg);
}

/* "/cart/{userId}/items" with the placeholder replaced by `id`. */
static char *route_path(arena *a, const char *route, const char *id) {
    const char *open = strchr(route, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    if (close == NULL)
        return (char *)route;
    return g_printf(a, "%.*s%s%s", (int)(open - route), route, id, close + 1);
}

/* The value of a route's placeholder. */
static char *route_id(lg_gen *g, trace_ctx *t, const route_def *rd) {
    if (rd->id_prefix == NULL)
        return NULL;
    if (strcmp(rd->id_prefix, "user-") == 0)
        return t->user;
    uint32_t v = rng_below(&g->r, 1u << 30);
    return rd->id_hex ? g_printf(g->req, "%s%08x", rd->id_prefix, v)
                      : g_printf(g->req, "%s%u", rd->id_prefix, v);
}

static uint32_t http_status(lg_gen *g, int error, const route_def *rd) {
    if (error)
        return rng_permille(&g->r, 800) ? 500 : 503;
    if (strcmp(rd->method, "POST") == 0)
        return rng_permille(&g->r, 900) ? 201 : 200;
    return rng_permille(&g->r, 30) ? 404 : 200;
}

static char *ip4(lg_gen *g) {
    uint64_t v = rng_next(&g->r);
    return g_printf(g->req, "10.%u.%u.%u", (unsigned)(v & 0xff), (unsigned)((v >> 8) & 0xff),
                    (unsigned)(1 + ((v >> 16) % 254)));
}

/* A SERVER span of service s handling route rd, called by a client with
 * User-Agent `agent` (NULL: a browser); id is the placeholder's value the
 * caller used (NULL: a new one). */
static tb_span *server_span(lg_gen *g, trace_ctx *t, int s, const tb_span *parent,
                            const char *agent, const route_def *rd, char *id, uint64_t start,
                            uint64_t end, int error) {
    arena *a = g->req;
    const svc_def *d = &services[s];
    char *name = g_printf(a, "%s %s", rd->method, rd->route);
    tb_span *sp = span_new(g, t, s, parent,
                           OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER, name,
                           start, end);
    if (parent != NULL)
        sp->flags = 0x301; /* its parent came from another process */
    if (id == NULL)
        id = route_id(g, t, rd);
    attrs l = {.n = 0};
    attr(a, &l, "http.request.method", v_str(a, rd->method));
    attr(a, &l, "http.route", v_str(a, rd->route));
    attr(a, &l, "url.path", v_str(a, id ? route_path(a, rd->route, id) : rd->route));
    attr(a, &l, "url.scheme", v_str(a, "http"));
    attr(a, &l, "http.response.status_code", v_int(a, http_status(g, error, rd)));
    attr(a, &l, "server.address", v_str(a, parent ? d->name : "shop.example.com"));
    attr(a, &l, "server.port", v_int(a, parent ? 8080 : 443));
    attr(a, &l, "client.address", v_str(a, ip4(g)));
    if (agent == NULL)
        agent =
            browser_agents[rng_below(&g->r, sizeof(browser_agents) / sizeof(browser_agents[0]))];
    attr(a, &l, "user_agent.original", v_str(a, agent));
    attr(a, &l, "network.protocol.version", v_str(a, parent ? "1.1" : "2"));
    attr(a, &l, "user.id", v_str(a, t->user));
    attr(a, &l, "http.request.header.x-request-id", v_str1(a, t->request_id));
    sp->attributes = attrs_copy(a, &l, &sp->n_attributes);
    if (error)
        span_exception(g, t, sp);
    t->servers[t->n_servers++] = t->n - 1;
    return sp;
}

/* Start and end of a child inside [ps, pe]. */
static void child_time(lg_gen *g, uint64_t ps, uint64_t pe, uint64_t *cs, uint64_t *ce) {
    uint64_t d = pe > ps ? pe - ps : 1;
    *cs = ps + rng_next(&g->r) % (d / 2 + 1);
    uint64_t left = pe - *cs;
    *ce = *cs + left * (15 + rng_below(&g->r, 75)) / 100;
    if (*ce <= *cs)
        *ce = *cs + 1;
}

/* A CLIENT call from span p (service s) to one of s's callees, and the
 * callee's SERVER span. */
static void http_call(lg_gen *g, trace_ctx *t, int pi) {
    arena *a = g->req;
    tb_span *p = t->spans[pi];
    const svc_def *d = &services[t->svc[pi]];
    int callee = d->callees[rng_below(&g->r, (uint32_t)d->n_callees)];
    const svc_def *cd = &services[callee];
    const route_def *rd = &cd->routes[rng_below(&g->r, (uint32_t)cd->n_routes)];
    int error = rng_permille(&g->r, 25);
    uint64_t cs, ce;
    child_time(g, p->start_time_unix_nano, p->end_time_unix_nano, &cs, &ce);
    char *name = g_printf(a, "%s %s", rd->method, rd->route);
    tb_span *c =
        span_new(g, t, t->svc[pi], p,
                 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT, name, cs, ce);
    char *id = route_id(g, t, rd);
    uint32_t status = http_status(g, error, rd);
    attrs l = {.n = 0};
    attr(a, &l, "http.request.method", v_str(a, rd->method));
    attr(a, &l, "url.full",
         v_str(a, g_printf(a, "http://%s:8080%s", cd->name,
                           id ? route_path(a, rd->route, id) : rd->route)));
    attr(a, &l, "url.template", v_str(a, rd->route));
    attr(a, &l, "server.address", v_str(a, cd->name));
    attr(a, &l, "server.port", v_int(a, 8080));
    attr(a, &l, "http.response.status_code", v_int(a, status));
    attr(a, &l, "network.peer.address", v_str(a, ip4(g)));
    attr(a, &l, "network.protocol.version", v_str(a, "1.1"));
    attr(a, &l, "http.request.header.x-request-id", v_str1(a, t->request_id));
    c->attributes = attrs_copy(a, &l, &c->n_attributes);
    if (error)
        span_status(g, c, 1, NULL); /* HTTP client spans carry no message */
    uint64_t net = (ce - cs) / 10;
    if (net > 400000)
        net = 400000;
    server_span(g, t, callee, c, d->user_agent, rd, id, cs + net / 2, ce - net / 2, error);
}

/* A database call from span p. */
static void db_call(lg_gen *g, trace_ctx *t, int pi) {
    arena *a = g->req;
    tb_span *p = t->spans[pi];
    const svc_def *d = &services[t->svc[pi]];
    const query_def *q = &d->queries[rng_below(&g->r, (uint32_t)d->n_queries)];
    int error = rng_permille(&g->r, 10);
    uint64_t cs, ce;
    child_time(g, p->start_time_unix_nano, p->end_time_unix_nano, &cs, &ce);
    char *summary = q->collection ? g_printf(a, "%s %s", q->op, q->collection) : (char *)q->op;
    tb_span *c = span_new(g, t, t->svc[pi], p,
                          OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT,
                          summary, cs, ce);
    attrs l = {.n = 0};
    attr(a, &l, "db.system.name", v_str(a, d->db_system));
    attr(a, &l, "db.namespace", v_str(a, d->db_namespace));
    attr(a, &l, "db.operation.name", v_str(a, q->op));
    if (q->collection != NULL)
        attr(a, &l, "db.collection.name", v_str(a, q->collection));
    attr(a, &l, "db.query.summary", v_str(a, summary));
    attr(a, &l, "db.query.text",
         v_str(a, q->text ? q->text : g_printf(a, "%s %s%u%s", q->op, q->key, t->user_n, q->args)));
    attr(a, &l, "server.address", v_str(a, d->db_host));
    attr(a, &l, "server.port", v_int(a, d->db_port));
    attr(a, &l, "network.peer.address", v_str(a, ip4(g)));
    if (q->text != NULL)
        attr(a, &l, "db.response.returned_rows", v_int(a, rng_below(&g->r, 40)));
    if (error && q->text != NULL) {
        attr(a, &l, "db.response.status_code", v_str(a, "40001"));
        attr(a, &l, "error.type", v_str(a, "40001"));
        span_status(g, c, 1,
                    g_printf(a, "could not serialize access due to concurrent update (pid %u)",
                             1000 + rng_below(&g->r, 60000)));
    } else if (error) {
        attr(a, &l, "db.response.status_code", v_str(a, "LOADING"));
        attr(a, &l, "error.type", v_str(a, "LOADING"));
        span_status(g, c, 1,
                    g_printf(a, "LOADING Redis is loading the dataset in memory (%u%% done)",
                             rng_below(&g->r, 100)));
    }
    c->attributes = attrs_copy(a, &l, &c->n_attributes);
}

/* An INTERNAL span under span p. */
static void internal_span(lg_gen *g, trace_ctx *t, int pi) {
    arena *a = g->req;
    tb_span *p = t->spans[pi];
    const svc_def *d = &services[t->svc[pi]];
    const op_def *op = &d->ops[rng_below(&g->r, 2)];
    uint64_t cs, ce;
    child_time(g, p->start_time_unix_nano, p->end_time_unix_nano, &cs, &ce);
    tb_span *c = span_new(g, t, t->svc[pi], p,
                          OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL,
                          op->name, cs, ce);
    attrs l = {.n = 0};
    attr(a, &l, "code.function.name", v_str(a, op->function));
    attr(a, &l, "code.file.path", v_str(a, op->file));
    attr(a, &l, "code.line.number", v_int(a, 20 + rng_below(&g->r, 600)));
    attr(a, &l, "thread.name", v_str(a, g_printf(a, "worker-%u", rng_below(&g->r, 32))));
    attr(a, &l, "user.id", v_str(a, t->user));
    attr(a, &l, "app.product.id", v_str(a, g_printf(a, "SKU-%06u", rng_below(&g->r, 1000000))));
    attr(a, &l, "app.cart.items", v_int(a, 1 + rng_below(&g->r, 12)));
    attr(a, &l, "app.cache.hit", v_bool(a, rng_permille(&g->r, 700)));
    attr(a, &l, "app.amount", v_double(a, (double)rng_below(&g->r, 100000) / 100.0));
    c->attributes = attrs_copy(a, &l, &c->n_attributes);
    if (rng_permille(&g->r, 5))
        span_exception(g, t, c);
}

/* One trace of at most `budget` spans (>= 1); appends its spans to the
 * per-service lists. Returns the number of spans. */
static int gen_trace(lg_gen *g, uint32_t budget, tb_span **per_svc[N_SVC], size_t n_per[N_SVC]) {
    trace_ctx t;
    t.n = 0;
    t.n_servers = 0;
    t.trace_id = g_id(g, 16);
    t.request_id = g_alloc(g->req, 17);
    hex16(t.request_id, rng_next(&g->r));
    t.user_n = rng_below(&g->r, 500000);
    t.user = g_printf(g->req, "user-%u", t.user_n);
    uint32_t n = 3 + rng_below(&g->r, 6) + rng_below(&g->r, 6) + rng_below(&g->r, 7);
    if (n > budget)
        n = budget;
    int entry = rng_permille(&g->r, 850) ? FRONTEND : (int)rng_below(&g->r, N_SVC);
    const route_def *rd =
        &services[entry].routes[rng_below(&g->r, (uint32_t)services[entry].n_routes)];
    uint64_t dur = (1 + rng_below(&g->r, 40)) * 1000000ULL + rng_below(&g->r, 1000000);
    if (rng_permille(&g->r, 50))
        dur *= 25;                                                /* the slow tail */
    uint64_t end = now_unix_ns() - rng_below(&g->r, 2000000000u); /* batching delay */
    server_span(g, &t, entry, NULL, NULL, rd, NULL, end - dur, end, rng_permille(&g->r, 15));
    while ((uint32_t)t.n < n) {
        int pi = t.servers[rng_below(&g->r, (uint32_t)t.n_servers)];
        const svc_def *d = &services[t.svc[pi]];
        uint32_t r = rng_below(&g->r, 10);
        if (r < 4 && d->n_callees > 0 && (uint32_t)t.n + 2 <= n)
            http_call(g, &t, pi);
        else if (r < 7 && d->db_system != NULL)
            db_call(g, &t, pi);
        else
            internal_span(g, &t, pi);
    }
    for (int i = 0; i < t.n; i++)
        per_svc[t.svc[i]][n_per[t.svc[i]]++] = t.spans[i];
    return t.n;
}

static void pick_instances(lg_gen *g) {
    for (int s = 0; s < N_SVC; s++)
        g->inst[s] = rng_below(&g->r, N_INST);
}

/* Packs a message behind room for the gRPC prefix. */
static void pack_body(const ProtobufCMessage *m, lg_body *out) {
    size_t n = protobuf_c_message_get_packed_size(m);
    out->data = malloc(LG_GRPC_PREFIX + n);
    if (out->data == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        abort();
    }
    protobuf_c_message_pack(m, out->data + LG_GRPC_PREFIX);
    out->data[0] = 0;
    out->data[1] = (uint8_t)(n >> 24);
    out->data[2] = (uint8_t)(n >> 16);
    out->data[3] = (uint8_t)(n >> 8);
    out->data[4] = (uint8_t)n;
    out->len = LG_GRPC_PREFIX + n;
}

static void gen_traces(lg_gen *g, lg_body *out) {
    arena *a = g->req;
    tb_span **per_svc[N_SVC];
    size_t n_per[N_SVC];
    for (int s = 0; s < N_SVC; s++) {
        per_svc[s] = g_alloc(a, g->items * sizeof(tb_span *));
        n_per[s] = 0;
    }
    uint32_t count = 0, traces = 0;
    while (count < g->items) {
        count += (uint32_t)gen_trace(g, g->items - count, per_svc, n_per);
        traces++;
    }
    tb_trace_req req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.resource_spans = g_alloc(a, N_SVC * sizeof(tb_rspans *));
    for (int s = 0; s < N_SVC; s++) {
        if (n_per[s] == 0)
            continue;
        tb_sspans *ss = g_alloc(a, sizeof(*ss));
        *ss = (tb_sspans)OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
        ss->scope = g->scopes[s];
        ss->n_spans = n_per[s];
        ss->spans = per_svc[s];
        tb_rspans *rs = g_alloc(a, sizeof(*rs));
        *rs = (tb_rspans)OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
        rs->resource = g->resources[s][g->inst[s]];
        rs->n_scope_spans = 1;
        rs->scope_spans = g_alloc(a, sizeof(tb_sspans *));
        rs->scope_spans[0] = ss;
        rs->schema_url = (char *)"https://opentelemetry.io/schemas/1.30.0";
        req.resource_spans[req.n_resource_spans++] = rs;
    }
    pack_body(&req.base, out);
    out->items = count;
    out->traces = traces;
}

/* ---- logs ---------------------------------------------------------------- */

typedef struct log_kind {
    Opentelemetry__Proto__Logs__V1__SeverityNumber sev;
    const char *sev_text;
    uint32_t weight; /* per mille */
} log_kind;

enum {
    L_ACCESS,
    L_CACHE,
    L_CONN,
    L_CART,
    L_SHIPPED,
    L_GC,
    L_SLOWQ,
    L_RETRY,
    L_DECLINED,
    L_PUBLISH,
    L_KINDS
};

static const log_kind log_kinds[L_KINDS] = {
    [L_ACCESS] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO, "INFO",
                  300},
    [L_CACHE] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_DEBUG, "DEBUG",
                 120},
    [L_CONN] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_DEBUG, "DEBUG",
                80},
    [L_CART] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO, "INFO", 150},
    [L_SHIPPED] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO, "INFO",
                   100},
    [L_GC] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_DEBUG2, "DEBUG", 60},
    [L_SLOWQ] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN, "WARN", 70},
    [L_RETRY] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN, "WARN", 60},
    [L_DECLINED] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR, "ERROR",
                    35},
    [L_PUBLISH] = {OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR, "ERROR",
                   25},
};

static int pick_log_kind(lg_gen *g) {
    uint32_t x = rng_below(&g->r, 1000), acc = 0;
    for (int k = 0; k < L_KINDS; k++) {
        acc += log_kinds[k].weight;
        if (x < acc)
            return k;
    }
    return L_ACCESS;
}

/* The body of a log record of kind k; may add attributes to l. */
static char *log_body(lg_gen *g, int k, int s, attrs *l, const char *user, const char *req_id) {
    arena *a = g->req;
    rng *r = &g->r;
    const svc_def *d = &services[s];
    switch (k) {
    case L_ACCESS: {
        const route_def *rd = &d->routes[rng_below(r, (uint32_t)d->n_routes)];
        attr(a, l, "http.route", v_str(a, rd->route));
        return g_printf(a, "%s %s %u %u.%03u ms user=%s request_id=%s", rd->method, rd->route,
                        rng_permille(r, 950) ? 200u : 404u, rng_below(r, 900), rng_below(r, 1000),
                        user, req_id);
    }
    case L_CACHE:
        return g_printf(a, "cache miss for key \"cart:%s\", loaded from %s in %u us", user,
                        d->db_host ? d->db_host : "origin", 50 + rng_below(r, 5000));
    case L_CONN: {
        uint64_t v = rng_next(r);
        return g_printf(a, "accepted connection from 10.%u.%u.%u:%u (conn_id=%llu)",
                        (unsigned)(v & 0xff), (unsigned)((v >> 8) & 0xff),
                        (unsigned)(1 + ((v >> 16) % 254)), 1024 + (unsigned)((v >> 24) % 60000),
                        (unsigned long long)(v >> 40));
    }
    case L_CART: {
        uint32_t cents = rng_below(r, 50000);
        return g_printf(a, "%s added %u x SKU-%06u to cart (cart total %u.%02u EUR)", user,
                        1 + rng_below(r, 5), rng_below(r, 1000000), cents / 100, cents % 100);
    }
    case L_SHIPPED: {
        static const char *const carriers[] = {"DHL", "UPS", "PostNL", "La Poste"};
        return g_printf(a, "order ord-%08x shipped via %s, tracking number 1Z%010llu",
                        (unsigned)rng_next(r), carriers[rng_below(r, 4)],
                        (unsigned long long)(rng_next(r) % 10000000000ULL));
    }
    case L_GC: {
        uint32_t before = 200 + rng_below(r, 1800);
        return g_printf(a, "GC pause %u.%u ms (heap %u MB -> %u MB, %u collections so far)",
                        rng_below(r, 80), rng_below(r, 10), before, before / 2 + rng_below(r, 100),
                        rng_below(r, 100000));
    }
    case L_SLOWQ:
        attr(a, l, "db.system.name", v_str(a, d->db_system ? d->db_system : "postgresql"));
        return g_printf(a,
                        "slow query (%u ms): SELECT id, sku, qty FROM inventory WHERE sku = "
                        "'SKU-%06u' AND warehouse = %u",
                        500 + rng_below(r, 9500), rng_below(r, 1000000), rng_below(r, 40));
    case L_RETRY:
        return g_printf(a,
                        "retrying call to %s: attempt %u of 5 after %u ms (last "
                        "error: \"connection "
                        "reset by peer\", request_id=%s)",
                        services[rng_below(r, N_SVC)].name, 1 + rng_below(r, 4),
                        100 * (1 + rng_below(r, 30)), req_id);
    case L_DECLINED: {
        uint32_t cents = rng_below(r, 90000);
        attr(a, l, "exception.type", v_str(a, "com.shop.payment.CardDeclinedException"));
        attr(a, l, "exception.message",
             v_str(a,
                   g_printf(a, "card ****%04u declined: insufficient funds", rng_below(r, 10000))));
        return g_printf(a,
                        "payment pay-%08x declined for order ord-%08x: amount=%u.%02u EUR "
                        "code=%u user=%s",
                        (unsigned)rng_next(r), (unsigned)rng_next(r), cents / 100, cents % 100,
                        51 + rng_below(r, 10), user);
    }
    default: /* L_PUBLISH */
        attr(a, l, "exception.type", v_str(a, "TimeoutError"));
        return g_printf(a,
                        "failed to publish event order.created id=%08x-%04x to "
                        "topic \"orders\": "
                        "timeout after %u ms",
                        (unsigned)rng_next(r), rng_below(r, 0x10000), 1000 + rng_below(r, 9000));
    }
}

static tb_log *gen_log(lg_gen *g, int s, uint64_t now) {
    arena *a = g->req;
    const svc_def *d = &services[s];
    int k = pick_log_kind(g);
    char *user = g_printf(a, "user-%u", rng_below(&g->r, 500000));
    char *req_id = g_alloc(a, 17);
    hex16(req_id, rng_next(&g->r));
    attrs l = {.n = 0};
    const op_def *op = &d->ops[rng_below(&g->r, 2)];
    attr(a, &l, "code.function.name", v_str(a, op->function));
    attr(a, &l, "thread.name", v_str(a, g_printf(a, "worker-%u", rng_below(&g->r, 32))));
    attr(a, &l, "user.id", v_str(a, user));
    attr(a, &l, "app.request.id", v_str(a, req_id));
    char *body = log_body(g, k, s, &l, user, req_id);
    tb_log *rec = g_alloc(a, sizeof(*rec));
    *rec = (tb_log)OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
    rec->observed_time_unix_nano = now;
    rec->time_unix_nano = now - rng_below(&g->r, 1000000000u);
    rec->severity_number = log_kinds[k].sev;
    rec->severity_text = (char *)log_kinds[k].sev_text;
    rec->body = v_str(a, body);
    rec->attributes = attrs_copy(a, &l, &rec->n_attributes);
    if (rng_permille(&g->r, 500)) {
        rec->trace_id = g_id(g, 16);
        rec->span_id = g_id(g, 8);
        rec->flags = 1;
    }
    return rec;
}

static void gen_logs(lg_gen *g, lg_body *out) {
    arena *a = g->req;
    tb_log **per_svc[N_SVC];
    size_t n_per[N_SVC];
    for (int s = 0; s < N_SVC; s++) {
        per_svc[s] = g_alloc(a, g->items * sizeof(tb_log *));
        n_per[s] = 0;
    }
    uint64_t now = now_unix_ns();
    for (uint32_t i = 0; i < g->items; i++) {
        int s = (int)rng_below(&g->r, N_SVC);
        per_svc[s][n_per[s]++] = gen_log(g, s, now);
    }
    tb_logs_req req = OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    req.resource_logs = g_alloc(a, N_SVC * sizeof(tb_rlogs *));
    for (int s = 0; s < N_SVC; s++) {
        if (n_per[s] == 0)
            continue;
        tb_slogs *sl = g_alloc(a, sizeof(*sl));
        *sl = (tb_slogs)OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
        sl->scope = g->scopes[s];
        sl->n_log_records = n_per[s];
        sl->log_records = per_svc[s];
        tb_rlogs *rl = g_alloc(a, sizeof(*rl));
        *rl = (tb_rlogs)OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
        rl->resource = g->resources[s][g->inst[s]];
        rl->n_scope_logs = 1;
        rl->scope_logs = g_alloc(a, sizeof(tb_slogs *));
        rl->scope_logs[0] = sl;
        rl->schema_url = (char *)"https://opentelemetry.io/schemas/1.30.0";
        req.resource_logs[req.n_resource_logs++] = rl;
    }
    pack_body(&req.base, out);
    out->items = g->items;
    out->traces = 0;
}

int lg_gen_next(lg_gen *g, lg_body *out) {
    arena_reset(g->req);
    pick_instances(g);
    if (g->sig == LG_TRACES)
        gen_traces(g, out);
    else
        gen_logs(g, out);
    return 0;
}
