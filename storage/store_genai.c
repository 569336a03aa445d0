/* store_genai.c - the writer's GenAI rollup: per minute and (service,
 * provider, model, operation) the calls, errors, a duration histogram and
 * token sums of GenAI spans (genai.h), and per minute the candidates for
 * the slowest and the most expensive calls; see store_internal.h.
 *
 * DESIGN
 * A batch's GenAI spans are summed in memory by key and each sum becomes
 * one upsert into genai_N of its segment, in the batch's transaction (so
 * the rollup commits, rolls back and is dropped with the spans it counts).
 * "Slowest" and "most expensive" (input + output tokens) are answered from
 * genai_top_N, which keeps per minute the GENAI_TOP_PER_MINUTE calls with
 * the largest duration and the largest token count: the top calls of any
 * window of whole minutes are among the top calls of its minutes, so a
 * query reads at most that many rows per minute, however many calls there
 * were. A batch inserts only its candidates that beat the minute's current
 * last one (one indexed probe per minute and ranking), then trims the
 * minute back to the kept number. Nothing is kept in memory between
 * batches, so a rollback needs no undo here.
 */
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/utf8.h"
#include "genai.h"
#include "rollup.h"
#include "store_internal.h"

/* ---- the statements (store_seg.c prepares them per segment) --------------- */

const char store_genai_upsert_sql[] =
    "INSERT INTO genai_{N}(minute, service, provider, model, operation, calls, errors,"
    " input_tokens, output_tokens, hist) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
    " ON CONFLICT(minute, service, provider, model, operation) DO UPDATE SET"
    " calls=calls+excluded.calls, errors=errors+excluded.errors,"
    " input_tokens=input_tokens+excluded.input_tokens,"
    " output_tokens=output_tokens+excluded.output_tokens,"
    " hist=loupe_hist_merge(hist, excluded.hist)";

const char store_genai_top_last_sql[] = "SELECT value FROM genai_top_{N} WHERE minute=?1 AND kind=?2"
                                        " ORDER BY value DESC, id LIMIT 1 OFFSET ?3";

const char store_genai_top_insert_sql[] =
    "INSERT INTO genai_top_{N}(minute, kind, value, trace_id, span_id, service, name, provider,"
    " model, operation, start_ns, duration_ns, input_tokens, output_tokens, error)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)";

const char store_genai_top_trim_sql[] =
    "DELETE FROM genai_top_{N} WHERE minute=?1 AND kind=?2 AND id NOT IN"
    " (SELECT id FROM genai_top_{N} WHERE minute=?1 AND kind=?2 ORDER BY value DESC, id LIMIT ?3)";

/* ---- one batch ------------------------------------------------------------------ */

/* A GenAI span of the batch. */
typedef struct sg_call {
    size_t span; /* index in the batch */
    int64_t seg, service, minute;
    uint64_t dur;
    genai_call c;
} sg_call;

/* One sum of the batch, by (seg, minute, service, provider, model, operation). */
typedef struct sg_sum {
    const sg_call *key; /* the first call of the key (its strings) */
    uint64_t h;
    int64_t calls, errors, in, out;
    rollup_hist *hist;
} sg_sum;

typedef struct sg_batch {
    sg_call *calls;
    size_t n;
    sg_sum *sums;
    size_t nsums;
    uint32_t *table; /* sum index + 1, open addressing */
    size_t table_cap;
} sg_batch;

static void sg_batch_free(sg_batch *x) {
    for (size_t i = 0; i < x->nsums; i++)
        free(x->sums[i].hist);
    free(x->sums);
    free(x->table);
    free(x->calls);
}

static int sg_str_eq(model_str a, model_str b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static uint64_t sg_hash(const sg_call *k) {
    int64_t parts[3] = {k->seg, k->minute, k->service};
    uint64_t h = hash_64(parts, sizeof(parts), 0x6a09e667f3bcc908ULL);
    h = hash_64(k->c.provider.ptr, k->c.provider.len, h);
    h = hash_64(k->c.model.ptr, k->c.model.len, h ^ 1);
    return hash_64(k->c.operation.ptr, k->c.operation.len, h ^ 2);
}

static int sg_same_key(const sg_call *a, const sg_call *b) {
    return a->seg == b->seg && a->minute == b->minute && a->service == b->service &&
           sg_str_eq(a->c.provider, b->c.provider) && sg_str_eq(a->c.model, b->c.model) &&
           sg_str_eq(a->c.operation, b->c.operation);
}

/* Adds call k to its sum (the table has room for every call: 2n slots). */
static int sg_add(sg_batch *x, const sg_call *k, int error) {
    uint64_t h = sg_hash(k);
    size_t mask = x->table_cap - 1, pos = (size_t)h & mask;
    sg_sum *s = NULL;
    for (;; pos = (pos + 1) & mask) {
        uint32_t v = x->table[pos];
        if (v == 0)
            break;
        if (x->sums[v - 1].h == h && sg_same_key(x->sums[v - 1].key, k)) {
            s = &x->sums[v - 1];
            break;
        }
    }
    if (s == NULL) {
        s = &x->sums[x->nsums];
        memset(s, 0, sizeof(*s));
        s->key = k;
        s->h = h;
        s->hist = calloc(1, sizeof(*s->hist));
        if (s->hist == NULL)
            return SQLITE_NOMEM;
        x->table[pos] = (uint32_t)(++x->nsums);
    }
    s->calls++;
    s->errors += error;
    s->in += k->c.input_tokens;
    s->out += k->c.output_tokens;
    s->hist->n[rollup_bucket(k->dur)]++;
    return SQLITE_OK;
}

/* Step 1: the batch's GenAI spans (x->calls), summed by key. */
static int sg_collect(sg_batch *x, const model_batch *b, const int64_t *ids,
                      const int64_t *span_seg) {
    size_t n = 0;
    for (size_t i = 0; i < b->n_spans; i++) {
        genai_call c;
        if (!genai_of(&b->spans[i].attrs, &c))
            continue;
        if (x->calls == NULL) {
            x->calls = malloc(b->n_spans * sizeof(*x->calls));
            if (x->calls == NULL)
                return SQLITE_NOMEM;
        }
        const model_span *sp = &b->spans[i];
        sg_call *k = &x->calls[n++];
        k->span = i;
        k->seg = span_seg[i];
        k->service = ids[3 * i + 1];
        k->minute = store_i64(sp->start_ns / ROLLUP_MINUTE_NS);
        k->dur = sp->end_ns > sp->start_ns ? sp->end_ns - sp->start_ns : 0;
        k->c = c;
    }
    x->n = n;
    if (n == 0)
        return SQLITE_OK;
    x->table_cap = 16;
    while (x->table_cap < 2 * n)
        x->table_cap *= 2;
    x->table = calloc(x->table_cap, sizeof(*x->table));
    x->sums = malloc(n * sizeof(*x->sums));
    if (x->table == NULL || x->sums == NULL)
        return SQLITE_NOMEM;
    int rc = SQLITE_OK;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
        rc = sg_add(x, &x->calls[i], b->spans[x->calls[i].span].status_code == MODEL_STATUS_ERROR);
    return rc;
}

/* Step 2: each sum upserted into its segment's genai_N. */
static int sg_write_sums(store_writer *w, const sg_batch *x) {
    buf blob;
    buf_init(&blob, (size_t)ROLLUP_BUCKETS * 11);
    int rc = SQLITE_OK;
    for (size_t i = 0; i < x->nsums && rc == SQLITE_OK; i++) {
        const sg_sum *s = &x->sums[i];
        store_seg *g = store_seg_by_id(w, s->key->seg);
        if (g == NULL)
            continue;
        sqlite3_stmt *st = store_seg_stmt(w, g, SST_GENAI_UPSERT, &rc);
        if (st == NULL)
            break;
        buf_reset(&blob);
        if (rollup_hist_blob(s->hist, &blob) != BUF_OK) {
            rc = SQLITE_NOMEM;
            break;
        }
        sqlite3_bind_int64(st, 1, s->key->minute);
        sqlite3_bind_int64(st, 2, s->key->service);
        store_bind_str(st, 3, s->key->c.provider);
        store_bind_str(st, 4, s->key->c.model);
        store_bind_str(st, 5, s->key->c.operation);
        sqlite3_bind_int64(st, 6, s->calls);
        sqlite3_bind_int64(st, 7, s->errors);
        sqlite3_bind_int64(st, 8, s->in);
        sqlite3_bind_int64(st, 9, s->out);
        sqlite3_bind_blob(st, 10, blob.len ? blob.ptr : "", (int)blob.len, SQLITE_STATIC);
        rc = store_run(st);
    }
    buf_free(&blob);
    return rc;
}

/* ---- the top calls of each minute ----------------------------------------------- */

enum { SG_SLOWEST = 0, SG_TOKENS = 1 };

/* A call in a ranking, with its value there. */
typedef struct sg_ranked {
    const sg_call *k;
    int64_t value;
} sg_ranked;

/* By segment and minute, then value (largest first), then arrival. */
static int sg_cmp(const void *pa, const void *pb) {
    const sg_ranked *ra = pa, *rb = pb;
    const sg_call *a = ra->k, *b = rb->k;
    if (a->seg != b->seg)
        return a->seg < b->seg ? -1 : 1;
    if (a->minute != b->minute)
        return a->minute < b->minute ? -1 : 1;
    if (ra->value != rb->value)
        return ra->value > rb->value ? -1 : 1;
    return a->span < b->span ? -1 : a->span > b->span;
}

/* The minute's kept value at the last place (*have = 0 when the minute
 * keeps fewer calls than that). */
static int sg_last_kept(sqlite3_stmt *st, int64_t minute, int kind, int64_t *value, int *have) {
    sqlite3_bind_int64(st, 1, minute);
    sqlite3_bind_int(st, 2, kind);
    sqlite3_bind_int(st, 3, GENAI_TOP_PER_MINUTE - 1);
    int rc = sqlite3_step(st);
    *have = rc == SQLITE_ROW;
    if (*have)
        *value = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int sg_insert_top(sqlite3_stmt *st, const model_batch *b, const sg_ranked *r, int kind) {
    const sg_call *k = r->k;
    const model_span *sp = &b->spans[k->span];
    model_str name = sp->name;
    name.len = utf8_cut(name.ptr, name.len, GENAI_TEXT_MAX);
    sqlite3_bind_int64(st, 1, k->minute);
    sqlite3_bind_int(st, 2, kind);
    sqlite3_bind_int64(st, 3, r->value);
    sqlite3_bind_blob(st, 4, sp->trace_id, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, sp->span_id, 8, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, k->service);
    store_bind_str(st, 7, name);
    store_bind_str(st, 8, k->c.provider);
    store_bind_str(st, 9, k->c.model);
    store_bind_str(st, 10, k->c.operation);
    sqlite3_bind_int64(st, 11, store_i64(sp->start_ns));
    sqlite3_bind_int64(st, 12, store_i64(k->dur));
    sqlite3_bind_int64(st, 13, k->c.input_tokens);
    sqlite3_bind_int64(st, 14, k->c.output_tokens);
    sqlite3_bind_int(st, 15, sp->status_code == MODEL_STATUS_ERROR);
    return store_run(st);
}

/* The candidates of one (segment, minute) in ranking `kind`: group[0..n),
 * best first. */
static int sg_top_group(store_writer *w, const model_batch *b, const sg_ranked *group, size_t n,
                        int kind) {
    int rc = SQLITE_OK;
    store_seg *g = store_seg_by_id(w, group[0].k->seg);
    if (g == NULL)
        return SQLITE_OK;
    sqlite3_stmt *last = store_seg_stmt(w, g, SST_GENAI_TOP_LAST, &rc);
    sqlite3_stmt *ins = last ? store_seg_stmt(w, g, SST_GENAI_TOP_INSERT, &rc) : NULL;
    sqlite3_stmt *trim = ins ? store_seg_stmt(w, g, SST_GENAI_TOP_TRIM, &rc) : NULL;
    if (trim == NULL)
        return rc;
    int64_t floor = 0;
    int full = 0;
    rc = sg_last_kept(last, group[0].k->minute, kind, &floor, &full);
    size_t added = 0;
    for (size_t i = 0; i < n && i < GENAI_TOP_PER_MINUTE && rc == SQLITE_OK; i++) {
        if (full && group[i].value <= floor)
            break; /* best first: none after it makes the cut either */
        rc = sg_insert_top(ins, b, &group[i], kind);
        added++;
    }
    if (rc == SQLITE_OK && added > 0) {
        sqlite3_bind_int64(trim, 1, group[0].k->minute);
        sqlite3_bind_int(trim, 2, kind);
        sqlite3_bind_int(trim, 3, GENAI_TOP_PER_MINUTE);
        rc = store_run(trim);
    }
    return rc;
}

/* Step 3: each minute's candidates in both rankings. */
static int sg_write_top(store_writer *w, const model_batch *b, const sg_batch *x) {
    sg_ranked *order = malloc(x->n * sizeof(*order));
    if (order == NULL)
        return SQLITE_NOMEM;
    int rc = SQLITE_OK;
    for (int kind = SG_SLOWEST; kind <= SG_TOKENS && rc == SQLITE_OK; kind++) {
        size_t n = 0;
        for (size_t i = 0; i < x->n; i++) {
            const sg_call *k = &x->calls[i];
            int64_t v = kind == SG_SLOWEST ? store_i64(k->dur)
                                           : k->c.input_tokens + k->c.output_tokens;
            if (kind == SG_SLOWEST || v > 0)
                order[n++] = (sg_ranked){k, v};
        }
        qsort(order, n, sizeof(*order), sg_cmp);
        for (size_t i = 0; i < n && rc == SQLITE_OK;) {
            size_t j = i + 1;
            while (j < n && order[j].k->seg == order[i].k->seg &&
                   order[j].k->minute == order[i].k->minute)
                j++;
            rc = sg_top_group(w, b, order + i, j - i, kind);
            i = j;
        }
    }
    free(order);
    return rc;
}

int store_genai_batch(store *s, const model_batch *b, const int64_t *ids,
                      const int64_t *span_seg) {
    sg_batch x;
    memset(&x, 0, sizeof(x));
    int rc = sg_collect(&x, b, ids, span_seg);
    if (rc == SQLITE_OK && x.n > 0)
        rc = sg_write_sums(&s->w, &x);
    if (rc == SQLITE_OK && x.n > 0)
        rc = sg_write_top(&s->w, b, &x);
    sg_batch_free(&x);
    return rc;
}

/* ---- trace segments made before the GenAI rollup ------------------------------------ */

#define SG_STR2(x) #x
#define SG_STR(x) SG_STR2(x)

/* The rules of genai_of() over a stored span's attributes (s.attrs). */
#define SG_JSON(k) "json_extract(s.attrs,'$.\"" k "\"')"
#define SG_TEXT(k)                                                                                 \
    "CASE WHEN json_type(s.attrs,'$.\"" k "\"')='text' THEN loupe_genai_text(" SG_JSON(k) ") END"
#define SG_TOKENS(k)                                                                               \
    "CASE WHEN json_type(s.attrs,'$.\"" k "\"') IN ('integer','real')"                             \
    " THEN loupe_genai_tokens(" SG_JSON(k) ") END"

/* The GenAI calls among segment {N}'s spans, as a CTE `g`. */
#define SG_CALLS                                                                                   \
    "WITH a AS (SELECT s.id, s.trace, s.span_id, s.service, s.name, s.start_ns,"                   \
    " max(s.end_ns-s.start_ns,0) AS dur, s.status_code=2 AS err,"                                  \
    " " SG_TEXT("gen_ai.operation.name") " AS op,"                                                 \
    " coalesce(" SG_TEXT("gen_ai.provider.name") "," SG_TEXT("gen_ai.system") ") AS prov,"         \
    " " SG_TEXT("gen_ai.request.model") " AS req,"                                                 \
    " " SG_TEXT("gen_ai.response.model") " AS resp,"                                               \
    " coalesce(" SG_TOKENS("gen_ai.usage.input_tokens") "," SG_TOKENS(                             \
        "gen_ai.usage.prompt_tokens") ",0) AS tin,"                                                \
    " coalesce(" SG_TOKENS("gen_ai.usage.output_tokens") "," SG_TOKENS(                            \
        "gen_ai.usage.completion_tokens") ",0) AS tout"                                            \
    " FROM spans_{N} s WHERE instr(s.attrs,'gen_ai.')>0),"                                         \
    " g AS (SELECT *, start_ns/60000000000 AS minute, coalesce(req,resp,'') AS model FROM a"       \
    " WHERE op IS NOT NULL OR prov IS NOT NULL OR req IS NOT NULL)"

static const char sg_fill_sql[] =
    SG_CALLS
    " INSERT INTO genai_{N}(minute, service, provider, model, operation, calls, errors,"
    " input_tokens, output_tokens, hist)"
    " SELECT minute, service, coalesce(prov,''), model, coalesce(op,''), count(*), sum(err),"
    " sum(tin), sum(tout), loupe_hist_of(dur) FROM g GROUP BY 1, 2, 3, 4, 5;" SG_CALLS
    ", r AS (SELECT g.*, 0 AS kind, dur AS value,"
    " row_number() OVER (PARTITION BY minute ORDER BY dur DESC, id) AS rn FROM g"
    " UNION ALL SELECT g.*, 1, tin+tout,"
    " row_number() OVER (PARTITION BY minute ORDER BY tin+tout DESC, id) FROM g WHERE tin+tout>0)"
    " INSERT INTO genai_top_{N}(minute, kind, value, trace_id, span_id, service, name, provider,"
    " model, operation, start_ns, duration_ns, input_tokens, output_tokens, error)"
    " SELECT r.minute, r.kind, r.value, t.trace_id, r.span_id, r.service,"
    " coalesce(loupe_genai_text(r.name),''), coalesce(r.prov,''), r.model, coalesce(r.op,''),"
    " r.start_ns, r.dur, r.tin, r.tout, r.err FROM r JOIN traces_{N} t ON t.id=r.trace"
    " WHERE r.rn<=" SG_STR(GENAI_TOP_PER_MINUTE) " ORDER BY r.minute, r.kind, r.value DESC, r.id;";

int store_genai_ensure(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = genai_register(db);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT id FROM segments WHERE signal=0 AND NOT EXISTS"
                                " (SELECT 1 FROM sqlite_schema WHERE type='table'"
                                " AND name='genai_top_'||segments.id) ORDER BY id",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 8;
            int64_t *v = realloc(ids, nc * sizeof(*v));
            if (v == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            ids = v;
            cap = nc;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc == SQLITE_OK && n > 0) {
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
            rc = seg_exec(db, seg_genai_ddl, ids[i]);
            if (rc == SQLITE_OK)
                rc = seg_exec(db, sg_fill_sql, ids[i]);
        }
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    free(ids);
    return rc;
}
