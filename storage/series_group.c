/* series_group.c - what the SQLite and the ClickHouse series answers plan
 * and write the same way: how an instrument's values combine, the
 * automatic step, the groups of an answer and their groupBy keys, and the
 * answer itself; see series_internal.h and the DESIGN comment of
 * query_metrics.c.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model.h"
#include "model_json.h"
#include "query_internal.h"
#include "series_internal.h"

int series_params_check(const query_series_params *p) {
    if (p == NULL || p->name == NULL || p->n_attrs > QUERY_MAX_ATTRS ||
        (p->n_attrs > 0 && p->attrs == NULL) || p->n_group_by > QUERY_MAX_GROUP_BY ||
        (p->n_group_by > 0 && p->group_by == NULL))
        return QUERY_EINVAL;
    if (p->has_start && p->has_end && p->end_ns <= p->start_ns)
        return QUERY_EINVAL;
    return QUERY_OK;
}

void series_ctx_combine(series_ctx *c) {
    int cum = c->temporality == MODEL_TEMPORALITY_CUMULATIVE;
    c->cumulative = cum && (c->type == MODEL_METRIC_HISTOGRAM ||
                            c->type == MODEL_METRIC_EXP_HISTOGRAM ||
                            (c->type == MODEL_METRIC_SUM && c->monotonic));
    c->has_rate = c->type == MODEL_METRIC_SUM && c->monotonic;
    c->value_adds = c->type == MODEL_METRIC_SUM && !cum;
}

uint64_t series_auto_step(uint64_t lo, uint64_t hi, uint64_t steps) {
    uint64_t range = hi > lo ? hi - lo : 1;
    uint64_t secs = (range / steps + 999999999u) / 1000000000u;
    return (secs ? secs : 1) * 1000000000u;
}

/* ---- groups ------------------------------------------------------------------- */

/* A jansson value as the API's JSON (jw escaping, model_json numbers). */
static void series_json_value(jw *w, const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        jw_object_begin(w);
        json_object_foreach((json_t *)v, k, e) {
            jw_key(w, k);
            series_json_value(w, e);
        }
        jw_object_end(w);
        return;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        jw_array_begin(w);
        json_array_foreach(v, i, e) series_json_value(w, e);
        jw_array_end(w);
        return;
    }
    case JSON_STRING:
        jw_stringn(w, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        model_json_int(w, json_integer_value(v));
        return;
    case JSON_REAL:
        jw_double(w, json_real_value(v));
        return;
    case JSON_TRUE:
        jw_bool(w, 1);
        return;
    case JSON_FALSE:
        jw_bool(w, 0);
        return;
    default:
        jw_null(w);
        return;
    }
}

/* The groupBy values of a series: each key from its point attributes, else
 * from its resource's, else null. NULL when out of memory. */
static char *series_group_key(const query_series_params *p, const char *attrs,
                              const char *res) {
    json_t *a = json_loads(attrs && attrs[0] ? attrs : "{}", 0, NULL);
    json_t *r = json_loads(res && res[0] ? res : "{}", 0, NULL);
    buf b;
    buf_init(&b, 1 << 20);
    jw w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    for (size_t i = 0; i < p->n_group_by; i++) {
        const json_t *v = json_object_get(a, p->group_by[i]);
        if (v == NULL)
            v = json_object_get(r, p->group_by[i]);
        jw_key(&w, p->group_by[i]);
        if (v == NULL)
            jw_null(&w);
        else
            series_json_value(&w, v);
    }
    jw_object_end(&w);
    json_decref(a);
    json_decref(r);
    if (jw_error(&w)) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

void series_groups_free(series_groups *gs) {
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].key);
        free(gs->g[i].attrs);
        free(gs->g[i].service);
        free(gs->g[i].instance);
        series_vec_free(&gs->g[i].v);
    }
    free(gs->g);
    memset(gs, 0, sizeof(*gs));
}

/* The group of key (borrowed), or a new zeroed one. */
static series_group *series_groups_get(series_groups *gs, const char *key) {
    for (size_t i = 0; key != NULL && i < gs->n; i++)
        if (gs->g[i].key != NULL && strcmp(gs->g[i].key, key) == 0)
            return &gs->g[i];
    if (gs->n == gs->cap) {
        size_t cap = gs->cap ? 2 * gs->cap : 16;
        series_group *ng = realloc(gs->g, cap * sizeof(*ng));
        if (ng == NULL)
            return NULL;
        gs->g = ng;
        gs->cap = cap;
    }
    series_group *g = &gs->g[gs->n++];
    memset(g, 0, sizeof(*g));
    return g;
}

long series_groups_join(series_groups *gs, const query_series_params *p, const char *attrs,
                        const char *res, const char *service, const char *instance) {
    series_group *g = NULL;
    if (p->n_group_by > 0) {
        char *key = series_group_key(p, attrs, res);
        if (key != NULL) {
            g = series_groups_get(gs, key);
            if (g != NULL && g->key == NULL)
                g->key = key;
            else
                free(key);
        }
    } else {
        g = series_groups_get(gs, NULL);
        if (g != NULL) {
            g->attrs = strdup(attrs ? attrs : "");
            g->service = strdup(service ? service : "");
            g->instance = strdup(instance ? instance : "");
            if (!g->attrs || !g->service || !g->instance)
                g = NULL;
        }
    }
    return g == NULL ? -1 : (long)(g - gs->g);
}

/* ---- the answer --------------------------------------------------------------- */

int series_answer_write(const query_series_params *p, const series_ctx *c, const char *unit,
                        const series_groups *gs, int partial, buf *out) {
    jw w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "name");
    jw_string(&w, p->name);
    jw_key(&w, "type");
    jw_string(&w, model_metric_type_name((model_metric_type)c->type));
    jw_key(&w, "unit");
    jw_string(&w, unit);
    jw_key(&w, "temporality");
    jw_string(&w, model_temporality_name((model_temporality)c->temporality));
    jw_key(&w, "monotonic");
    jw_bool(&w, c->monotonic);
    jw_key(&w, "stepNs");
    jw_uint(&w, c->step);
    if (partial) {
        jw_key(&w, "partial");
        jw_bool(&w, 1);
    }
    jw_key(&w, "series");
    jw_array_begin(&w);
    for (size_t i = 0; i < gs->n; i++) {
        const series_group *g = &gs->g[i];
        jw_object_begin(&w);
        jw_key(&w, "attributes");
        if (g->key != NULL) {
            jw_raw(&w, g->key, strlen(g->key));
        } else {
            jw_raw(&w, g->attrs, strlen(g->attrs));
            jw_key(&w, "service");
            jw_string(&w, g->service);
            jw_key(&w, "instance");
            jw_string(&w, g->instance);
        }
        jw_key(&w, "points");
        jw_array_begin(&w);
        for (size_t k = 0; k < g->v.n; k++)
            series_bucket_json(&w, c, &g->v.b[k]);
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    return query_finish(&w, SQLITE_DONE);
}
