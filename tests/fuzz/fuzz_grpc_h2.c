/* fuzz_grpc_h2.c - libFuzzer target for the whole OTLP/gRPC input path.
 *
 * A detached receiver (no socket, no thread; see grpc_detached.h) gets the
 * client connection preface and then the fuzz input as the client's byte
 * stream, fed in chunks, exactly as the epoll loop feeds what it reads: the
 * nghttp2 session, our callbacks, the gRPC message parser, gzip, the
 * protobuf decoder and the error answers all run. There is no store, so
 * decodable exports are answered UNAVAILABLE. Every answer is recorded in
 * an ingest log (the inspector's, with the client's hostile header values
 * copied into it). Byte 0 of the input picks the chunk size and whether an
 * API key is configured.
 */
#include <stdint.h>
#include <string.h>

#include "util/buf.h"
#include "server/net/ingest_log.h"
#include "server/receive/grpc_detached.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    static ingest_log *ingest; /* kept across inputs, as the server keeps it */
    if (!init) {
        log_set_level(LOG_ERROR);
        ingest = ingest_log_new(64, NULL);
        init = 1;
    }
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    size_t chunk = (sel >> 1) == 0 ? size : (size_t)(sel >> 1) * 7;
    data++;
    size--;

    grpc_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.addr = "127.0.0.1:0";
    cfg.max_message_bytes = 64 * 1024;
    cfg.max_connections = 2;
    cfg.ingest = ingest;
    if (sel & 1)
        cfg.api_keys[0] = "fuzz-key";
    grpc_server *g = NULL;
    if (grpc_server_new_detached(&cfg, NULL, &g) != 0)
        return 0;
    buf sink;
    buf_init(&sink, 1 << 20);
    grpc_conn *c = grpc_conn_new_detached(g, &sink);
    int alive = c != NULL && grpc_conn_feed_detached(c, preface, sizeof(preface) - 1);
    size_t pos = 0;
    while (alive && pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        alive = grpc_conn_feed_detached(c, data + pos, n);
        buf_reset(&sink);
        pos += n;
    }
    grpc_server_poll_detached(g);
    buf_free(&sink);
    grpc_server_free_detached(g);
    return 0;
}
