/* store_texts.c - the per-item JSON texts of a batch (attributes, events,
 * links, bodies, point data, attribute index tokens), see store_internal.h.
 *
 * store_append() renders them on the receiving thread into one buffer that
 * travels with the batch through the ring (store_prep), so that the single
 * writer thread only binds and steps statements. When rendering fails (out
 * of memory, over the ring's budget) the batch is queued without texts and
 * the writer renders each item's itself (store_rows.c).
 */
#include <stdlib.h>

#include "util/jw.h"
#include "attr_index.h"
#include "model_json.h"
#include "store_internal.h"

/* Renders one JSON document into out and records where it is. */
#define STORE_TEXT_BEGIN(out, t, j)                                                                \
    do {                                                                                           \
        (t)->off = (out)->len;                                                                     \
        jw_init(&(j), (out));                                                                      \
    } while (0)
#define STORE_TEXT_END(out, t, j)                                                                  \
    do {                                                                                           \
        if (jw_error(&(j)))                                                                        \
            return jw_error(&(j)) == BUF_ENOMEM ? STORE_ENOMEM : STORE_EINVAL;                     \
        (t)->len = (out)->len - (t)->off;                                                          \
    } while (0)

/* Appends the attribute index tokens (attr_index.h) of the attributes
 * JSON already in out at *attrs (and of a span name) to out. */
static int store_tokens(buf *out, const store_text *attrs, const model_str *name, store_text *t) {
    /* The JSON is read from out while the tokens are appended to it, so
     * reserve room for all of them first and out cannot move: one token of
     * 18 bytes per member, a member takes at least 4 bytes ("":1), plus the
     * name's token. */
    int rc = buf_reserve(out, 18 * (attrs->len / 4 + 2) + 1);
    if (rc != BUF_OK)
        return rc == BUF_ENOMEM ? STORE_ENOMEM : STORE_EINVAL;
    t->off = out->len;
    rc = attr_index_tokens(out->ptr + attrs->off, attrs->len, name ? store_cstr(*name) : NULL,
                           name ? name->len : 0, out);
    if (rc != BUF_OK)
        return rc == BUF_ENOMEM ? STORE_ENOMEM : STORE_EINVAL;
    t->len = out->len - t->off;
    return STORE_OK;
}

/* Appends the texts of item i of b to out. Returns STORE_OK, STORE_ENOMEM,
 * or STORE_EINVAL when out's cap is reached. */
int store_item_texts(const model_batch *b, size_t i, buf *out, store_text *t) {
    jw j;
    switch (b->signal) {
    case MODEL_SIGNAL_TRACES: {
        const model_span *sp = &b->spans[i];
        STORE_TEXT_BEGIN(out, &t[0], j);
        model_json_attrs(&j, &sp->attrs);
        STORE_TEXT_END(out, &t[0], j);
        STORE_TEXT_BEGIN(out, &t[1], j);
        model_json_events(&j, sp);
        STORE_TEXT_END(out, &t[1], j);
        STORE_TEXT_BEGIN(out, &t[2], j);
        model_json_links(&j, sp);
        STORE_TEXT_END(out, &t[2], j);
        int rc = store_tokens(out, &t[0], &sp->name, &t[3]);
        if (rc != STORE_OK)
            return rc;
        /* and the span's words (the trace search's q), from the same texts
         * a delete gives loupe_attr_tokens() back: reserve first, the JSON
         * is read from out while the words are appended to it */
        if (buf_reserve(out, 2 * (sp->name.len + sp->status_message.len + t[0].len + t[1].len) +
                                 8) != BUF_OK)
            return STORE_ENOMEM;
        rc = attr_index_words(store_cstr(sp->name), sp->name.len, store_cstr(sp->status_message),
                              sp->status_message.len, out->ptr + t[0].off, t[0].len,
                              out->ptr + t[1].off, t[1].len, out);
        if (rc != BUF_OK)
            return rc == BUF_ENOMEM ? STORE_ENOMEM : STORE_EINVAL;
        t[3].len = out->len - t[3].off;
        return STORE_OK;
    }
    case MODEL_SIGNAL_LOGS: {
        const model_log *lg = &b->logs[i];
        STORE_TEXT_BEGIN(out, &t[0], j);
        model_json_value(&j, &lg->body);
        STORE_TEXT_END(out, &t[0], j);
        STORE_TEXT_BEGIN(out, &t[1], j);
        model_json_attrs(&j, &lg->attrs);
        STORE_TEXT_END(out, &t[1], j);
        t[3].off = t[3].len = 0; /* unused, but counted in a segment's size */
        return store_tokens(out, &t[1], NULL, &t[2]);
    }
    case MODEL_SIGNAL_METRICS: {
        const model_point *p = &b->points[i];
        STORE_TEXT_BEGIN(out, &t[0], j);
        model_json_attrs_sorted(&j, &p->attrs);
        STORE_TEXT_END(out, &t[0], j);
        t[1].off = t[1].len = 0;
        if (p->metric != NULL && p->metric->type != MODEL_METRIC_GAUGE &&
            p->metric->type != MODEL_METRIC_SUM) {
            STORE_TEXT_BEGIN(out, &t[1], j);
            model_json_point_data(&j, p);
            STORE_TEXT_END(out, &t[1], j);
        }
        t[2].off = t[2].len = 0;
        if (p->n_exemplars > 0) {
            STORE_TEXT_BEGIN(out, &t[2], j);
            model_json_exemplars(&j, p);
            STORE_TEXT_END(out, &t[2], j);
        }
        t[3].off = t[3].len = 0;
        return STORE_OK;
    }
    }
    return STORE_EINVAL;
}

void store_prep_free(store_prep *p) {
    if (p == NULL)
        return;
    buf_free(&p->text);
    free(p->t);
    if (p->job) {
        free(p->job->service);
        free(p->job);
    }
    free(p);
}

/* Renders every text of b, or returns NULL (the writer renders them then). */
store_prep *store_prep_new(const model_batch *b, size_t max_bytes) {
    size_t n = model_batch_items(b);
    if (n == 0 || n > SIZE_MAX / (STORE_MAX_TEXTS * sizeof(store_text)))
        return NULL;
    store_prep *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    buf_init(&p->text, max_bytes);
    p->t = malloc(n * STORE_MAX_TEXTS * sizeof(store_text));
    if (p->t == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (store_item_texts(b, i, &p->text, &p->t[i * STORE_MAX_TEXTS]) != STORE_OK)
            goto fail;
    p->bytes = sizeof(*p) + p->text.cap + n * STORE_MAX_TEXTS * sizeof(store_text);
    return p;
fail:
    store_prep_free(p);
    return NULL;
}
