/* forward_pos.c - a destination's positions in the data directory, see
 * forward_internal.h.
 *
 * The file DIR/forward-KEY.pos is small text, rewritten whole after every
 * delivered request (a temporary file, fsync, rename, so a crash leaves the
 * old or the new one, never a mix):
 *
 *   loupe-forward 1
 *   dest grpc://collector:4317
 *   traces 12:340 15:7
 *   logs 13:9981
 *   metrics 14:220
 *
 * A signal's line lists SEGMENT:ROW for each live segment (query.h,
 * query_tail). The "dest" line is for people; the file is found by KEY, a
 * hash of the protocol and the URL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "forward_internal.h"

#define POS_MAGIC "loupe-forward 1"
#define POS_MAX_BYTES ((size_t)1 << 20)

static void forward_pos_path(const char *dir, const forward_dest *d, const char *suffix,
                             char *out, size_t outlen) {
    snprintf(out, outlen, "%s/forward-%s.pos%s", dir, d->key, suffix);
}

/* One "SIGNAL SEG:ROW ..." line into t; *sig gets the signal. */
static int forward_pos_line(const char *line, query_tail *t, int *sig) {
    size_t wn = strcspn(line, " ");
    *sig = -1;
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
        const char *name = model_signal_name((model_signal)s);
        if (strlen(name) == wn && strncmp(line, name, wn) == 0)
            *sig = s;
    }
    if (*sig < 0)
        return -1;
    const char *p = line + wn;
    while (*p == ' ') {
        char *end;
        errno = 0;
        long long seg = strtoll(p + 1, &end, 10);
        if (*end != ':' || seg <= 0 || errno)
            return -1;
        const char *r = end + 1;
        long long row = strtoll(r, &end, 10);
        if (end == r || (*end != ' ' && *end != '\0') || row < 0 || errno)
            return -1;
        if (query_tail_set(&t[*sig], seg, row) != QUERY_OK)
            return -1;
        p = end;
    }
    return *p == '\0' ? 0 : -1;
}

int forward_pos_load(const char *dir, const forward_dest *d, query_tail *t, int *found, char *err,
                     size_t errlen) {
    char path[1024];
    for (int s = 0; s < MODEL_SIGNAL_COUNT; s++)
        found[s] = 0;
    forward_pos_path(dir, d, "", path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int rc = 0, n = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            rc = -1; /* a line too long, or cut */
            break;
        }
        line[len - 1] = '\0';
        if (n++ == 0) {
            rc = strcmp(line, POS_MAGIC) == 0 ? 0 : -1;
            continue;
        }
        if (strncmp(line, "dest ", 5) == 0)
            continue;
        int sig;
        rc = forward_pos_line(line, t, &sig);
        if (rc == 0)
            found[sig] = 1;
    }
    if (ferror(f) || n == 0)
        rc = -1;
    fclose(f);
    if (rc != 0) {
        for (int s = 0; s < MODEL_SIGNAL_COUNT; s++) {
            found[s] = 0;
            t[s].n = 0;
        }
        snprintf(err, errlen, "%s is not a position file loupe wrote", path);
    }
    return rc;
}

int forward_pos_save(const char *dir, const forward_dest *d, const query_tail *t, char *err,
                     size_t errlen) {
    char path[1024], tmp[1040];
    forward_pos_path(dir, d, "", path, sizeof(path));
    forward_pos_path(dir, d, ".tmp", tmp, sizeof(tmp));
    buf b;
    buf_init(&b, POS_MAX_BYTES);
    int rc = buf_printf(&b, "%s\ndest %s\n", POS_MAGIC, d->name);
    for (int s = 0; s < MODEL_SIGNAL_COUNT && rc == BUF_OK; s++) {
        rc = buf_append_str(&b, model_signal_name((model_signal)s));
        for (size_t i = 0; i < t[s].n && rc == BUF_OK; i++)
            rc = buf_printf(&b, " %lld:%lld", (long long)t[s].segs[i].seg,
                            (long long)t[s].segs[i].row);
        if (rc == BUF_OK)
            rc = buf_append_char(&b, '\n');
    }
    if (rc != BUF_OK) {
        buf_free(&b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0;
    size_t off = 0;
    while (ok && off < b.len) {
        ssize_t w = write(fd, b.ptr + off, b.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            off += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        if (saved == 0)
            saved = errno;
        unlink(tmp);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(saved));
    }
    buf_free(&b);
    return ok ? 0 : -1;
}
