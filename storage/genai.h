/* genai.h - what makes a span a generative-AI call, by the OpenTelemetry
 * semantic conventions for GenAI, and the figures the GenAI rollup keeps
 * of it.
 *
 * DESIGN
 * A span is a GenAI call when one of gen_ai.operation.name,
 * gen_ai.provider.name, gen_ai.system (the provider's older name) or
 * gen_ai.request.model is a non-empty string attribute. The rollup keys it
 * by provider (gen_ai.provider.name, else gen_ai.system), model
 * (gen_ai.request.model, else gen_ai.response.model: the model asked for,
 * which is stable, rather than the dated version that answered) and
 * operation (gen_ai.operation.name: chat, embeddings, execute_tool,
 * invoke_agent, ...), and sums its tokens (gen_ai.usage.input_tokens and
 * gen_ai.usage.output_tokens, else the older gen_ai.usage.prompt_tokens and
 * gen_ai.usage.completion_tokens). The texts are cut to GENAI_TEXT_MAX
 * bytes at a character boundary, so a hostile value cannot make a key
 * large. Message contents are not read here: the UI shows them from the
 * span's attributes and events.
 */
#ifndef LOUPE_GENAI_H
#define LOUPE_GENAI_H

#include <stdint.h>

#include <sqlite3.h>

#include "model.h"

#define GENAI_TEXT_MAX 200

/* The calls each minute keeps as candidates for the slowest and for the
 * most expensive (input + output tokens) of a window (store_genai.c). */
#define GENAI_TOP_PER_MINUTE 10

/* The GenAI figures of one span. The strings borrow from the span's
 * attributes (valid as long as its batch); "" when absent. */
typedef struct genai_call {
    model_str provider;
    model_str model;
    model_str operation;
    int64_t input_tokens;  /* 0 when absent; never negative */
    int64_t output_tokens; /* likewise */
} genai_call;

/* Fills *out and returns 1 when attrs are a GenAI call's, else returns 0
 * (*out is then zeroed). */
int genai_of(const model_attrs *attrs, genai_call *out);

/* Registers the SQL functions that apply the same rules to stored
 * attributes (the fill of store_genai_ensure()):
 *   loupe_genai_text(x)    a non-empty text cut to GENAI_TEXT_MAX, else NULL
 *   loupe_genai_tokens(x)  a number clamped to a token count, else NULL
 * Returns an SQLite code. */
int genai_register(sqlite3 *db);

#endif
