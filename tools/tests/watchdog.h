/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every call must come back: hang detection for the fuzzers, not a timing
 * assertion.  Before a call that could block, a thread names it with
 * wd_begin(); a watchdog thread fails the test naming that call if it is
 * still in progress WATCHDOG_S later.  The harness's alarm says which test
 * hung; this says which call.
 */
#ifndef COWTRACE_WATCHDOG_H
#define COWTRACE_WATCHDOG_H

/* Generous: TCG with KASAN is slow, never a minute per call. */
#define WATCHDOG_S 60

/* Name the call this thread is about to make (starts the watchdog once). */
void wd_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The call named by the last wd_begin() came back. */
void wd_end(void);

#endif
