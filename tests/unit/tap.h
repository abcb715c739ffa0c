/* tap.h — minimal TAP output for the C unit tests. */
#ifndef NSM_TAP_H
#define NSM_TAP_H
#include <stdio.h>
static int tap_n, tap_failed;
#define TAP_OK(cond, ...)                                                              \
	do {                                                                           \
		int tap_ok_ = !!(cond);                                                \
		tap_n++;                                                               \
		if (tap_ok_) {                                                         \
			printf("ok %d - ", tap_n);                                     \
		} else {                                                               \
			tap_failed++;                                                  \
			printf("not ok %d - ", tap_n);                                 \
		}                                                                      \
		printf(__VA_ARGS__);                                                   \
		printf("\n");                                                          \
		if (!tap_ok_)                                                          \
			printf("#   failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
	} while (0)
#define TAP_DONE() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)
#endif
