/* clk.c - see clk.h. */
#include "clk.h"

int64_t clk_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void clk_deadline(clockid_t c, long ms, struct timespec *out) {
    clock_gettime(c, out);
    out->tv_sec += (time_t)(ms / 1000);
    out->tv_nsec += (ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}
