/* replay.c - runs a libFuzzer target over files, without libFuzzer.
 *
 *   replay DIR_OR_FILE...
 *
 * Linked with one tests/fuzz/fuzz_*.c (built by any compiler, gcc included,
 * with or without sanitizers), it feeds every regular file of each
 * directory (in name order; not recursive) and every file named on the
 * command line to LLVMFuzzerTestOneInput(), each in a buffer of exactly its
 * size. So the seed corpora and the regression inputs run as ordinary
 * tests. A missing directory is skipped; an unreadable file fails the run.
 * A crash names the input it happened on. Exit 0 when every input ran.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Optional in a target (libFuzzer calls it once before the first input). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Present when linked with a sanitizer runtime: called before the process
 * dies of a sanitizer report. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

#define REPLAY_MAX_INPUT (64u * 1024 * 1024)

static char replay_current[4096];

static void replay_say_current(void) {
    static const char pre[] = "replay: crashed on input ";
    size_t n = strnlen(replay_current, sizeof(replay_current));
    ssize_t w = write(STDERR_FILENO, pre, sizeof(pre) - 1);
    w = write(STDERR_FILENO, replay_current, n);
    w = write(STDERR_FILENO, "\n", 1);
    (void)w;
}

static void replay_on_signal(int sig) {
    replay_say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads a whole file into a buffer of exactly its size (at least 1 byte
 * allocated). Returns 0, or -1 with errno. */
static int replay_read(const char *path, uint8_t **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    int rc = -1;
    if (f == NULL)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        goto out;
    if (st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
        errno = EFBIG;
        goto out;
    }
    size_t n = (size_t)st.st_size;
    p = malloc(n ? n : 1);
    if (p == NULL)
        goto out;
    if (n > 0 && fread(p, 1, n, f) != n) {
        errno = EIO;
        goto out;
    }
    *out = p;
    *len = n;
    p = NULL;
    rc = 0;
out:
    free(p);
    fclose(f);
    return rc;
}

static int replay_file(const char *path) {
    uint8_t *data = NULL;
    size_t len = 0;
    if (replay_read(path, &data, &len) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    snprintf(replay_current, sizeof(replay_current), "%s", path);
    LLVMFuzzerTestOneInput(data, len);
    replay_current[0] = '\0';
    free(data);
    return 0;
}

static int replay_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir; adds to *count. */
static int replay_dir(const char *dir, size_t *count) {
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0) {
                fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
                rc = -1;
            }
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **p = realloc(names, ncap * sizeof(*p));
            if (p == NULL) {
                rc = -1;
                break;
            }
            names = p;
            cap = ncap;
        }
        size_t need = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(need);
        if (names[n] == NULL) {
            rc = -1;
            break;
        }
        snprintf(names[n], need, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), replay_cmp);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(names[i]) != 0)
                rc = -1;
            else
                (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, replay_on_signal);
    signal(SIGSEGV, replay_on_signal);
    signal(SIGBUS, replay_on_signal);
    signal(SIGFPE, replay_on_signal);
    signal(SIGILL, replay_on_signal);
    if (__sanitizer_set_death_callback != NULL)
        __sanitizer_set_death_callback(replay_say_current);
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);

    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(argv[i]) != 0)
                rc = 1;
            else
                count++;
        } else if (replay_dir(argv[i], &count) != 0) {
            rc = 1;
        }
    }
    printf("replay %s: %zu inputs%s\n", argv[0], count, rc ? ", errors" : "");
    return rc;
}
