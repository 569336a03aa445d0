/* Tests for storage/logpattern.c: the masks, the clustering on a corpus of
 * known templates (at least 95% of the records in the pattern of their
 * template, no pattern shared by two templates), generalisation, map
 * bodies, the bounds and their "other" patterns, the changes the store
 * persists and the state rebuilt from them, and threads. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/logpattern.h"

/* ---- masks ------------------------------------------------------------------------ */

static void expect_mask(const char *in, const char *want) {
    buf b;
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(logpattern_mask(in, strlen(in), &b), BUF_OK);
    ck_assert_msg(strcmp(b.ptr, want) == 0, "mask(%s) = [%s], want [%s]", in, b.ptr, want);
    buf_free(&b);
}

START_TEST(masks_variable_parts_by_shape) {
    expect_mask("took 12 ms", "took <NUM> ms");
    expect_mask("ratio -0.5e3 and 99.5% and 12MB", "ratio <NUM> and <NUM> and <NUM>");
    expect_mask("id 0xdeadBEEF hash 3f2a9c1b00d4e5f6", "id <HEX> hash <HEX>");
    expect_mask("req 123e4567-e89b-12d3-a456-426614174000 done",
                "req <UUID> done");
    expect_mask("from 10.1.2.3:4567 and 192.168.0.1/24", "from <IP> and <IP>");
    expect_mask("peer [2001:db8::1]:443 via fe80::1ff:fe23:4567:890a",
                "peer <IP> via <IP>");
    expect_mask("waited 150ms then 1.5s then 2m30s then 250\xc2\xb5s",
                "waited <DURATION> then <DURATION> then <DURATION> then <DURATION>");
    expect_mask("at 2024-05-06T12:34:56.789Z and 2024-05-06 and 12:34:56",
                "at <TIME> and <TIME> and <TIME>");
    expect_mask("mail bob.smith+x@example.co.uk now", "mail <EMAIL> now");
    expect_mask("get https://api.example.com/v1/x?id=3 ok", "get <URL> ok");
    expect_mask("open /var/lib/app/data.db and ./rel/x and src/a/b.c",
                "open <PATH> and <PATH> and <PATH>");
    /* quoted values become one token, spaces and all; a JSON key stays */
    expect_mask("error: \"connection reset by peer\", key='a b' it's fine",
                "error: \"<*>\", key='<*>' it's fine");
    expect_mask("{\"user\":\"bob smith\",\"n\":3}", "{\"user\":\"<*>\",\"n\":<NUM>}");
    /* punctuation around a token stays; key=value judges the value */
    expect_mask("(conn_id=42) user=user-17 SKU-000123, [x]",
                "(conn_id=<NUM>) user=user-<NUM> SKU-<NUM>, [x]");
    expect_mask("order ord-0a1b2c3d x86 v2 1Z99", "order ord-<HEX> x86 v2 1Z99");
    /* whitespace of any kind separates; controls are whitespace */
    expect_mask("  a\tb\r\nc\x01" "d  ", "a b c d");
    expect_mask("", "");
    /* a token too long to be anything is <*>; the 64th token ends a line */
    char longtok[2000];
    memset(longtok, 'a', sizeof(longtok) - 1);
    longtok[sizeof(longtok) - 1] = '\0';
    expect_mask(longtok, "<*>");
    buf many, want;
    buf_init(&many, 1 << 16);
    buf_init(&want, 1 << 16);
    for (int i = 0; i < 100; i++) {
        buf_append_str(&many, "w ");
        if (i < LOGPATTERN_MAX_TOKENS - 1)
            buf_append_str(&want, "w ");
    }
    buf_append_str(&want, "<*>");
    expect_mask(many.ptr, want.ptr);
    buf_free(&many);
    buf_free(&want);
}
END_TEST

/* ---- a corpus of known templates ------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t rnd(rng *r, uint32_t n) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s % n);
}

static const char *const words[] = {"alpha", "bravo",  "charlie", "delta", "echo",   "foxtrot",
                                    "golf",  "hotel",  "india",   "kilo",  "lima",   "mike",
                                    "oscar", "papa",   "quebec",  "romeo", "sierra", "tango",
                                    "victor", "whiskey"};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* Appends the value of slot name[0..n) to out. */
static void slot(rng *r, const char *name, size_t n, buf *out) {
#define IS(s) (n == strlen(s) && memcmp(name, s, n) == 0)
    if (IS("int"))
        buf_printf(out, "%u", rnd(r, 100000));
    else if (IS("status")) {
        static const int st[] = {200, 201, 204, 301, 400, 404, 500, 503};
        buf_printf(out, "%d", st[rnd(r, 8)]);
    } else if (IS("float"))
        buf_printf(out, "%u.%03u", rnd(r, 1000), rnd(r, 1000));
    else if (IS("dur")) {
        switch (rnd(r, 4)) {
        case 0:
            buf_printf(out, "%ums", 1 + rnd(r, 5000));
            break;
        case 1:
            buf_printf(out, "%u.%us", rnd(r, 60), rnd(r, 10));
            break;
        case 2:
            buf_printf(out, "%uus", 1 + rnd(r, 900));
            break;
        default:
            buf_printf(out, "%um%us", 1 + rnd(r, 59), rnd(r, 60));
        }
    } else if (IS("q"))
        buf_printf(out, "\"%s %s %u\"", words[rnd(r, NWORDS)], words[rnd(r, NWORDS)], rnd(r, 100));
    else if (IS("sq"))
        buf_printf(out, "'%s-%u'", words[rnd(r, NWORDS)], rnd(r, 1000));
    else if (IS("ip"))
        buf_printf(out, "10.%u.%u.%u", rnd(r, 256), rnd(r, 256), 1 + rnd(r, 254));
    else if (IS("ipport"))
        buf_printf(out, "192.168.%u.%u:%u", rnd(r, 256), 1 + rnd(r, 254), 1024 + rnd(r, 60000));
    else if (IS("ip6"))
        buf_printf(out, "2001:db8::%x:%x", 1 + rnd(r, 0xfff0), 1 + rnd(r, 0xfff0));
    else if (IS("uuid"))
        buf_printf(out, "%08x-%04x-4%03x-a%03x-%06x%06x", rnd(r, 0xffffffffu), rnd(r, 0x10000),
                   rnd(r, 0x1000), rnd(r, 0x1000), rnd(r, 0x1000000), rnd(r, 0x1000000));
    else if (IS("hex"))
        buf_printf(out, "0x%08x", rnd(r, 0xffffffffu));
    else if (IS("hexid"))
        buf_printf(out, "%08x%08x", 0x10000000u + rnd(r, 0xe0000000u), rnd(r, 0xffffffffu));
    else if (IS("path"))
        buf_printf(out, rnd(r, 2) ? "/api/v1/%s/%u" : "/var/lib/app/%s-%u.db",
                   words[rnd(r, NWORDS)], rnd(r, 10000));
    else if (IS("email"))
        buf_printf(out, "%s%u@example.com", words[rnd(r, NWORDS)], rnd(r, 1000));
    else if (IS("user"))
        buf_printf(out, "user-%u", rnd(r, 500000));
    else if (IS("order"))
        buf_printf(out, "ord-%08x", 0x10000000u + rnd(r, 0xe0000000u));
    else if (IS("word"))
        buf_append_str(out, words[rnd(r, NWORDS)]);
    else if (IS("time"))
        buf_printf(out, "2026-%02u-%02uT%02u:%02u:%02u.%03uZ", 1 + rnd(r, 12), 1 + rnd(r, 28),
                   rnd(r, 24), rnd(r, 60), rnd(r, 60), rnd(r, 1000));
    else if (IS("url"))
        buf_printf(out, "https://%s.example.com/%s?id=%u", words[rnd(r, NWORDS)],
                   words[rnd(r, NWORDS)], rnd(r, 1000));
    else
        ck_abort_msg("unknown slot %.*s", (int)n, name);
#undef IS
}

/* A record of template t: its slots filled. */
static void render(rng *r, const char *t, buf *out) {
    buf_reset(out);
    while (*t) {
        const char *open = strchr(t, '{');
        if (open == NULL) {
            buf_append_str(out, t);
            break;
        }
        buf_append(out, t, (size_t)(open - t));
        const char *close = strchr(open, '}');
        slot(r, open + 1, (size_t)(close - open - 1), out);
        t = close + 1;
    }
    buf_append(out, "", 0);
}

typedef struct corpus_template {
    const char *service;
    const char *text;
} corpus_template;

static const corpus_template corpus[] = {
    {"frontend", "GET {path} {status} {dur}"},
    {"frontend", "POST {path} {status} {dur}"},
    {"frontend", "User {email} logged in from {ipport}"},
    {"frontend", "Session {uuid} expired after {dur} of inactivity"},
    {"frontend", "Rendering page {path} for {user} took {float} ms"},
    {"frontend", "Served static asset {path} ({int} bytes) from cache"},
    {"frontend", "CSRF token mismatch for session {uuid} from {ip}"},
    {"frontend", "WebSocket connection {hexid} closed by client with code {int}"},
    {"frontend", "Feature flag {q} evaluated to {word} for {user}"},
    {"frontend", "Redirecting {user} to {url}"},
    {"checkout", "Order {order} placed by {user}: {int} items, total {float} EUR"},
    {"checkout", "Payment {hexid} declined for order {order}: card ending {int} code={int}"},
    {"checkout", "Retrying call to {word} attempt {int} of 5 after {dur} (last error: {q})"},
    {"checkout", "Applied coupon {sq} to cart of {user}, discount {float} EUR"},
    {"checkout", "Inventory reservation {uuid} released after {dur}"},
    {"checkout", "Failed to publish event order.created id={hexid} to topic {q}: timeout after {dur}"},
    {"checkout", "Shipping quote from {word} for {int} parcels: {float} EUR in {dur}"},
    {"checkout", "Tax calculated for region {word} at {float}% on {float} EUR"},
    {"checkout", "Cart {hexid} merged into cart {hexid} after login of {email}"},
    {"checkout", "slow query ({dur}): SELECT id, sku, qty FROM inventory WHERE sku = {sq} AND "
                 "warehouse = {int}"},
    {"db", "accepted connection from {ipport} (conn_id={int})"},
    {"db", "connection {int} closed after {dur}, {int} queries served"},
    {"db", "checkpoint complete: wrote {int} buffers ({float}%); {int} WAL file(s) added, {int} "
           "removed"},
    {"db", "autovacuum of table {q} took {dur}: {int} dead tuples removed"},
    {"db", "replication lag to replica {ip6} is {dur}"},
    {"db", "Disk usage of {path} at {float}% ({int} MB free)"},
    {"db", "GC pause {float} ms (heap {int} MB -> {int} MB, {int} collections so far)"},
    {"db", "Loaded {int} rows into {word} in {dur}"},
    {"db", "TLS handshake with {ipport} failed: certificate for {q} expired at {time}"},
    {"db", "Lock wait timeout on {word} after {dur} for transaction {hex}"},
    {"worker", "Job {uuid} of type {word} started at {time}"},
    {"worker", "Job {uuid} finished in {dur} with status {word}"},
    {"worker", "Sending email to {email} with subject {q}"},
    {"worker", "Fetched {url} in {dur} ({int} bytes)"},
    {"worker", "Processing batch {int} of {int} from queue {q}"},
    {"worker", "Cache miss for key {q}, loaded from {ip} in {int} us"},
    {"worker", "Scheduled task {word} skipped: previous run still active since {time}"},
    {"worker", "Resized image {path} to {int}x{int} in {dur}"},
    {"worker", "Webhook delivery {hexid} to {url} returned {status}"},
    {"worker", "Rate limit exceeded for API key {hexid}: {int} requests in {dur}"},
    /* neighbours: the same service, first tokens and length as another */
    {"worker", "Job {uuid} failed after {dur}: {q}"},
    {"worker", "Job {uuid} retried {int} times by {word}"},
    {"db", "connection {int} reset by peer after {dur}"},
    {"checkout", "Order {order} cancelled by {user}: reason {q}"},
    {"checkout", "Order {order} refunded to {user}: {float} EUR"},
};
#define NT (sizeof(corpus) / sizeof(corpus[0]))
#define PER_TEMPLATE 250

START_TEST(corpus_records_land_in_their_templates_pattern) {
    logpattern *lp = logpattern_new(NULL);
    ck_assert_ptr_nonnull(lp);
    rng r = {0x9e3779b97f4a7c15ULL};
    size_t total = NT * PER_TEMPLATE;
    int *tmpl = malloc(total * sizeof(*tmpl));
    int64_t *pid = malloc(total * sizeof(*pid));
    ck_assert_ptr_nonnull(tmpl);
    ck_assert_ptr_nonnull(pid);
    size_t left[NT];
    for (size_t t = 0; t < NT; t++)
        left[t] = PER_TEMPLATE;
    buf line;
    buf_init(&line, 1 << 16);
    /* templates interleaved at random */
    for (size_t i = 0; i < total; i++) {
        size_t t = rnd(&r, NT);
        while (left[t] == 0)
            t = (t + 1) % NT;
        left[t]--;
        render(&r, corpus[t].text, &line);
        tmpl[i] = (int)t;
        pid[i] = logpattern_assign_text(lp, corpus[t].service, strlen(corpus[t].service),
                                        line.ptr, line.len, 1000 + i);
        ck_assert_int_gt(pid[i], 0);
    }
    /* each template's pattern: the one most of its records have */
    int64_t major[NT];
    size_t in_major = 0;
    for (size_t t = 0; t < NT; t++) {
        int64_t best = 0;
        size_t best_n = 0;
        for (size_t i = 0; i < total; i++) {
            if (tmpl[i] != (int)t)
                continue;
            size_t n = 0;
            for (size_t j = 0; j < total; j++)
                n += tmpl[j] == (int)t && pid[j] == pid[i];
            if (n > best_n) {
                best_n = n;
                best = pid[i];
            }
        }
        major[t] = best;
        in_major += best_n;
        buf tp;
        buf_init(&tp, 1 << 16);
        ck_assert_int_eq(logpattern_template(lp, best, &tp), 0);
        if (best_n < PER_TEMPLATE)
            fprintf(stderr, "template %zu (%s): %zu of %d in [%s]\n", t, corpus[t].text, best_n,
                    PER_TEMPLATE, tp.ptr);
        buf_free(&tp);
    }
    double share = (double)in_major / (double)total;
    fprintf(stderr, "logpattern corpus: %zu templates, %zu records, %.2f%% in their template's"
                    " pattern, %zu patterns\n",
            NT, total, 100.0 * share, logpattern_count(lp));
    ck_assert_msg(share >= 0.95, "only %.2f%% of the records in their template's pattern",
                  100.0 * share);
    /* no pattern holds records of two templates */
    for (size_t i = 0; i < total; i++)
        for (size_t j = i + 1; j < total; j++)
            if (pid[i] == pid[j])
                ck_assert_msg(tmpl[i] == tmpl[j], "templates %d and %d share pattern %lld",
                              tmpl[i], tmpl[j], (long long)pid[i]);
    for (size_t a = 0; a < NT; a++)
        for (size_t b = a + 1; b < NT; b++)
            ck_assert_int_ne(major[a], major[b]);
    buf_free(&line);
    free(tmpl);
    free(pid);
    logpattern_free(lp);
}
END_TEST

/* ---- generalisation, kinds, bounds ----------------------------------------------------- */

static int64_t put(logpattern *lp, const char *svc, const char *text, uint64_t t) {
    return logpattern_assign_text(lp, svc, strlen(svc), text, strlen(text), t);
}

static void expect_template(logpattern *lp, int64_t id, const char *want) {
    buf b;
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(logpattern_template(lp, id, &b), 0);
    ck_assert_msg(strcmp(b.ptr, want) == 0, "template %lld = [%s], want [%s]", (long long)id,
                  b.ptr, want);
    buf_free(&b);
}

START_TEST(differing_tokens_become_wildcards_and_the_id_stays) {
    logpattern *lp = logpattern_new(NULL);
    int64_t a = put(lp, "s", "worker picked job alpha from queue main", 1);
    expect_template(lp, a, "worker picked job alpha from queue main");
    ck_assert_int_eq(put(lp, "s", "worker picked job bravo from queue main", 2), a);
    expect_template(lp, a, "worker picked job <*> from queue main");
    ck_assert_int_eq(put(lp, "s", "worker picked job charlie from queue side", 3), a);
    expect_template(lp, a, "worker picked job <*> from queue <*>");
    /* too different: a pattern of its own; another service: its own too */
    int64_t b = put(lp, "s", "worker picked lease on shard seven today", 4);
    ck_assert_int_ne(b, a);
    /* the first two tokens choose the leaf: a word there is not merged */
    int64_t w = put(lp, "s", "worker dropped job alpha from queue main", 4);
    ck_assert_int_ne(w, a);
    int64_t c = put(lp, "t", "worker picked job alpha from queue main", 5);
    ck_assert_int_ne(c, a);
    ck_assert_int_ne(c, b);
    /* other lengths are other patterns; masked values are the same token */
    int64_t d = put(lp, "s", "took 5ms", 6);
    ck_assert_int_eq(put(lp, "s", "took 1.5s", 7), d);
    expect_template(lp, d, "took <DURATION>");
    ck_assert_int_ne(put(lp, "s", "took 5ms twice", 8), d);
    logpattern_free(lp);
}
END_TEST

static model_value kv_body(model_kv *items, size_t n) {
    model_value v;
    memset(&v, 0, sizeof(v));
    v.type = MODEL_VALUE_KVLIST;
    v.u.kvlist.items = items;
    v.u.kvlist.n = n;
    return v;
}

static model_kv kv(const char *k) {
    model_kv x;
    memset(&x, 0, sizeof(x));
    x.key.ptr = k;
    x.key.len = strlen(k);
    x.value.type = MODEL_VALUE_INT;
    return x;
}

START_TEST(map_bodies_get_a_pattern_per_key_set) {
    logpattern *lp = logpattern_new(NULL);
    model_kv ab[] = {kv("msg"), kv("level"), kv("user id")};
    model_kv ba[] = {kv("user id"), kv("msg"), kv("level"), kv("msg")};
    model_kv ac[] = {kv("msg"), kv("level"), kv("order")};
    model_value v1 = kv_body(ab, 3), v2 = kv_body(ba, 4), v3 = kv_body(ac, 3);
    int64_t a = logpattern_assign(lp, "s", 1, &v1, 1);
    ck_assert_int_gt(a, 0);
    expect_template(lp, a, "{level, msg, user_id}");
    ck_assert_int_eq(logpattern_assign(lp, "s", 1, &v2, 2), a); /* order, repeats */
    int64_t c = logpattern_assign(lp, "s", 1, &v3, 3);
    ck_assert_int_ne(c, a); /* exact: never merged into {level, msg, <*>} */
    expect_template(lp, a, "{level, msg, user_id}");
    model_value arr, bytes, num, empty;
    memset(&arr, 0, sizeof(arr));
    arr.type = MODEL_VALUE_ARRAY;
    bytes = arr;
    bytes.type = MODEL_VALUE_BYTES;
    num = arr;
    num.type = MODEL_VALUE_DOUBLE;
    empty = arr;
    empty.type = MODEL_VALUE_EMPTY;
    expect_template(lp, logpattern_assign(lp, "s", 1, &arr, 4), "[...]");
    expect_template(lp, logpattern_assign(lp, "s", 1, &bytes, 5), "<bytes>");
    expect_template(lp, logpattern_assign(lp, "s", 1, &num, 6), "<NUM>");
    int64_t e = logpattern_assign(lp, "s", 1, &empty, 7);
    expect_template(lp, e, "");
    ck_assert_int_eq(put(lp, "s", " \t ", 8), e);
    logpattern_free(lp);
}
END_TEST

START_TEST(past_the_bounds_records_go_to_other) {
    logpattern_config cfg = {.max_per_service = 3, .max_services = 2};
    logpattern *lp = logpattern_new(&cfg);
    int64_t p[3];
    p[0] = put(lp, "a", "one thing happened", 1);
    p[1] = put(lp, "a", "another event was seen twice", 2);
    p[2] = put(lp, "a", "third", 3);
    int64_t o = put(lp, "a", "a fourth kind of line", 4);
    for (int i = 0; i < 3; i++)
        ck_assert_int_ne(o, p[i]);
    expect_template(lp, o, LOGPATTERN_OTHER_TEMPLATE);
    ck_assert_int_eq(put(lp, "a", "yet another different line here", 5), o);
    ck_assert_int_eq(put(lp, "a", "one thing happened", 6), p[0]); /* known ones still match */
    int64_t b = put(lp, "b", "one thing happened", 7);
    ck_assert_int_ne(b, p[0]);
    int64_t g = put(lp, "c", "one thing happened", 8); /* a third service: the global other */
    ck_assert_int_ne(g, o);
    ck_assert_int_eq(put(lp, "d", "anything", 9), g);
    expect_template(lp, g, LOGPATTERN_OTHER_TEMPLATE);
    logpattern_changes ch;
    memset(&ch, 0, sizeof(ch));
    ck_assert_int_eq(logpattern_take_changes(lp, &ch), 0);
    int seen_global = 0;
    for (size_t i = 0; i < ch.n; i++)
        if (ch.rows[i].id == g) {
            seen_global = 1;
            ck_assert_int_eq(ch.rows[i].kind, LOGPATTERN_OTHER);
            ck_assert_uint_eq(ch.rows[i].service_len, 0);
        }
    ck_assert(seen_global);
    logpattern_changes_free(&ch);
    logpattern_free(lp);
}
END_TEST

/* ---- changes and restore ----------------------------------------------------------------- */

static const logpattern_row *row_of(const logpattern_changes *ch, int64_t id) {
    for (size_t i = 0; i < ch->n; i++)
        if (ch->rows[i].id == id)
            return &ch->rows[i];
    return NULL;
}

START_TEST(changes_are_taken_once_and_given_back_on_rollback) {
    logpattern *lp = logpattern_new(NULL);
    logpattern_changes ch;
    memset(&ch, 0, sizeof(ch));
    int64_t a = put(lp, "svc", "cache warmed with 10 entries", 500);
    int64_t b = put(lp, "svc", "listening on port 8080 now", 400);
    ck_assert_int_eq(logpattern_take_changes(lp, &ch), 0);
    ck_assert_uint_eq(ch.n, 2);
    const logpattern_row *ra = row_of(&ch, a);
    ck_assert_ptr_nonnull(ra);
    ck_assert_int_eq(ra->kind, LOGPATTERN_TEXT);
    ck_assert_uint_eq(ra->first_ns, 500);
    ck_assert_uint_eq(ra->last_ns, 500);
    ck_assert_int_eq(memcmp(ch.text.ptr + ra->service_off, "svc", 3), 0);
    ck_assert_uint_eq(ra->tmpl_len, strlen("cache warmed with <NUM> entries"));
    ck_assert_int_eq(
        memcmp(ch.text.ptr + ra->tmpl_off, "cache warmed with <NUM> entries", ra->tmpl_len), 0);
    /* nothing changed since */
    ck_assert_int_eq(logpattern_take_changes(lp, &ch), 0);
    ck_assert_uint_eq(ch.n, 0);
    /* a record inside the known times changes nothing, nor one less than
     * a minute later; an earlier one does, and one a minute later */
    put(lp, "svc", "cache warmed with 11 entries", 500);
    put(lp, "svc", "cache warmed with 11 entries", 500 + LOGPATTERN_LAST_SEEN_SLACK_NS - 1);
    ck_assert_int_eq(logpattern_take_changes(lp, &ch), 0);
    ck_assert_uint_eq(ch.n, 0);
    put(lp, "svc", "cache warmed with 12 entries", 500 + LOGPATTERN_LAST_SEEN_SLACK_NS);
    put(lp, "svc", "listening on port 9090 now", 100);
    ck_assert_int_eq(logpattern_take_changes(lp, &ch), 0);
    ck_assert_uint_eq(ch.n, 2);
    ck_assert_uint_eq(row_of(&ch, a)->last_ns, 500 + LOGPATTERN_LAST_SEEN_SLACK_NS);
    ck_assert_uint_eq(row_of(&ch, b)->first_ns, 100);
    /* the transaction that wrote them rolled back: they are taken again */
    logpattern_changes_return(lp, &ch);
    logpattern_changes back;
    memset(&back, 0, sizeof(back));
    ck_assert_int_eq(logpattern_take_changes(lp, &back), 0);
    ck_assert_uint_eq(back.n, 2);
    ck_assert_ptr_nonnull(row_of(&back, a));
    ck_assert_ptr_nonnull(row_of(&back, b));
    logpattern_changes_free(&back);
    logpattern_changes_free(&ch);
    logpattern_free(lp);
}
END_TEST

START_TEST(restored_state_assigns_the_same_ids) {
    logpattern *lp = logpattern_new(NULL);
    rng r = {12345};
    buf line;
    buf_init(&line, 1 << 16);
    int64_t ids[NT];
    for (int round = 0; round < 20; round++)
        for (size_t t = 0; t < NT; t++) {
            render(&r, corpus[t].text, &line);
            ids[t] = put(lp, corpus[t].service, line.ptr, 10 + (uint64_t)round);
        }
    model_kv keys[] = {kv("a"), kv("b")};
    model_value mv = kv_body(keys, 2);
    int64_t sid = logpattern_assign(lp, "svc", 3, &mv, 7);
    logpattern_changes ch;
    memset(&ch, 0, sizeof(ch));
    ck_assert_int_eq(logpattern_take_changes(lp, &ch), 0);
    ck_assert_uint_eq(ch.n, logpattern_count(lp));
    /* rows in id order, as the store reads its table */
    logpattern *again = logpattern_new(NULL);
    int64_t max = 0;
    for (int64_t id = 1; id <= (int64_t)ch.n + 1; id++) {
        const logpattern_row *x = row_of(&ch, id);
        if (x == NULL)
            continue;
        ck_assert_int_eq(logpattern_restore(again, x->id, ch.text.ptr + x->service_off,
                                            x->service_len, x->kind, ch.text.ptr + x->tmpl_off,
                                            x->tmpl_len, x->first_ns, x->last_ns),
                         0);
        if (x->id > max)
            max = x->id;
    }
    ck_assert_uint_eq(logpattern_count(again), logpattern_count(lp));
    /* restoring changes nothing that needs writing */
    logpattern_changes none;
    memset(&none, 0, sizeof(none));
    ck_assert_int_eq(logpattern_take_changes(again, &none), 0);
    ck_assert_uint_eq(none.n, 0);
    for (size_t t = 0; t < NT; t++) {
        render(&r, corpus[t].text, &line);
        ck_assert_int_eq(put(again, corpus[t].service, line.ptr, 50), ids[t]);
    }
    ck_assert_int_eq(logpattern_assign(again, "svc", 3, &mv, 8), sid);
    /* new patterns take ids after the restored ones */
    ck_assert_int_gt(put(again, "svc", "a line never seen before today", 60), max);
    ck_assert_int_eq(logpattern_restore(again, 0, "x", 1, 0, "y", 1, 0, 0), -1);
    ck_assert_int_eq(logpattern_restore(again, 99999, "x", 1, 7, "y", 1, 0, 0), -1);
    logpattern_changes_free(&none);
    logpattern_changes_free(&ch);
    buf_free(&line);
    logpattern_free(again);
    logpattern_free(lp);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------------ */

typedef struct thread_arg {
    logpattern *lp;
    int seed;
    int64_t ids[NT];
} thread_arg;

static void *assign_many(void *p) {
    thread_arg *a = p;
    rng r = {(uint64_t)a->seed * 7919 + 1};
    buf line;
    buf_init(&line, 1 << 16);
    for (int i = 0; i < 2000; i++) {
        size_t t = (size_t)i % NT;
        render(&r, corpus[t].text, &line);
        a->ids[t] = put(a->lp, corpus[t].service, line.ptr, (uint64_t)i + 1);
        if (i % 100 == 0) {
            logpattern_changes ch;
            memset(&ch, 0, sizeof(ch));
            logpattern_take_changes(a->lp, &ch);
            if (i % 200 == 0)
                logpattern_changes_return(a->lp, &ch);
            logpattern_changes_free(&ch);
        }
    }
    buf_free(&line);
    return NULL;
}

START_TEST(threads_share_one_state) {
    logpattern *lp = logpattern_new(NULL);
    thread_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].lp = lp;
        args[i].seed = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, assign_many, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* every thread ended on the same pattern per template */
    for (size_t t = 0; t < NT; t++)
        for (int i = 1; i < 4; i++)
            ck_assert_int_eq(args[i].ids[t], args[0].ids[t]);
    logpattern_free(lp);
}
END_TEST

static Suite *logpattern_suite(void) {
    Suite *s = suite_create("logpattern");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, masks_variable_parts_by_shape);
    tcase_add_test(tc, corpus_records_land_in_their_templates_pattern);
    tcase_add_test(tc, differing_tokens_become_wildcards_and_the_id_stays);
    tcase_add_test(tc, map_bodies_get_a_pattern_per_key_set);
    tcase_add_test(tc, past_the_bounds_records_go_to_other);
    tcase_add_test(tc, changes_are_taken_once_and_given_back_on_rollback);
    tcase_add_test(tc, restored_state_assigns_the_same_ids);
    tcase_add_test(tc, threads_share_one_state);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(logpattern_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
