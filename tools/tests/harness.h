/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small kselftest-style harness: every TEST runs in its own forked process
 * under a timeout and reports one TAP line.  A test passes, fails, or skips
 * with a printed reason; a skip is never counted as a pass.
 *
 *	TEST(fork_shares_pages) {
 *		ASSERT_EQ(1, 1);
 *		if (!thp_available())
 *			SKIP("THP not available");
 *	}
 *
 * ASSERT_* ends the test at the first failure, EXPECT_* records it and goes
 * on.  The binary's main() comes from harness.c; `--list` prints the tests,
 * and test names given as arguments select them.
 */
#ifndef COWTRACE_HARNESS_H
#define COWTRACE_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

typedef void (*ct_test_fn)(void);

void ct_register(const char *name, ct_test_fn fn, int timeout_s);
void ct_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ct_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void ct_abort(void) __attribute__((noreturn));
int ct_failed(void);
/*
 * Name what the test does next; a test that times out reports its last step
 * and how long it had been in it, so a hang in CI points at its cause.
 */
void ct_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CT_DEFAULT_TIMEOUT 120

#define TEST_TIMEOUT(name, secs)                                      \
	static void name(void);                                       \
	__attribute__((constructor)) static void ct_reg_##name(void) \
	{                                                             \
		ct_register(#name, name, secs);                       \
	}                                                             \
	static void name(void)

#define TEST(name) TEST_TIMEOUT(name, CT_DEFAULT_TIMEOUT)

#define SKIP(...) ct_skip(__VA_ARGS__)

#define CT_CMP(kind, a, op, b, fatal)                                         \
	do {                                                                  \
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);              \
		if (!(_a op _b)) {                                            \
			ct_fail(__FILE__, __LINE__,                           \
				"%s: %s %s %s: %" PRIu64 " (%#" PRIx64        \
				") vs %" PRIu64 " (%#" PRIx64 ")",            \
				kind, #a, #op, #b, _a, _a, _b, _b);           \
			if (fatal)                                            \
				ct_abort();                                   \
		}                                                             \
	} while (0)

#define ASSERT_EQ(a, b) CT_CMP("ASSERT", a, ==, b, 1)
#define ASSERT_NE(a, b) CT_CMP("ASSERT", a, !=, b, 1)
#define ASSERT_GE(a, b) CT_CMP("ASSERT", a, >=, b, 1)
#define ASSERT_GT(a, b) CT_CMP("ASSERT", a, >, b, 1)
#define ASSERT_LE(a, b) CT_CMP("ASSERT", a, <=, b, 1)
#define ASSERT_TRUE(a) CT_CMP("ASSERT", !!(a), ==, 1, 1)
#define ASSERT_FALSE(a) CT_CMP("ASSERT", !!(a), ==, 0, 1)
#define EXPECT_EQ(a, b) CT_CMP("EXPECT", a, ==, b, 0)
#define EXPECT_NE(a, b) CT_CMP("EXPECT", a, !=, b, 0)
#define EXPECT_GE(a, b) CT_CMP("EXPECT", a, >=, b, 0)
#define EXPECT_GT(a, b) CT_CMP("EXPECT", a, >, b, 0)
#define EXPECT_LE(a, b) CT_CMP("EXPECT", a, <=, b, 0)
#define EXPECT_TRUE(a) CT_CMP("EXPECT", !!(a), ==, 1, 0)
#define EXPECT_FALSE(a) CT_CMP("EXPECT", !!(a), ==, 0, 0)

/* A failure with a message of its own. */
#define FAIL(...) do { ct_fail(__FILE__, __LINE__, __VA_ARGS__); ct_abort(); } while (0)

#endif
