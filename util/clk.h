/* clk.h - clock readings in nanoseconds and deadlines for timed waits. */
#ifndef LOUPE_CLK_H
#define LOUPE_CLK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on clock c (CLOCK_MONOTONIC for intervals, CLOCK_REALTIME
 * for timestamps). */
int64_t clk_ns(clockid_t c);

/* Fills *out with the time ms milliseconds (>= 0) from now on clock c: the
 * absolute deadline pthread_cond_timedwait() takes (CLOCK_REALTIME unless
 * the condition variable was given another clock). */
void clk_deadline(clockid_t c, long ms, struct timespec *out);

#endif
