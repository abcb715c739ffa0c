/* capture.h — one output stream of a sandbox, read into its cap.
 *
 * Owns: the read loop shared by one-shot runs (exec.c) and session calls
 * (session.c): a bounded number of reads per loop round (one noisy sandbox
 * cannot starve the loop), end of stream (the descriptor is taken off the
 * loop), the cap (outcap.h), the runaway threshold, and, for a session call,
 * the end-of-call marker (agent_ipc.h): output after it is not the call's.
 * Must not: kill or answer anything (capture_read says "runaway" once; the
 * caller kills), close the descriptor (the sandbox's jail_proc owns it), or
 * keep more than cap + 1 bytes whatever the sandbox writes.
 */
#ifndef NSM_CAPTURE_H
#define NSM_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "outcap.h"

/* Incremental marker search in a stream. Bytes that may begin the marker are
 * held back (they are marker[0..matched)) until the match fails, so the
 * marker is stripped even when split across reads. */
struct marker_scan {
	const char *marker;
	size_t marker_len;
	size_t matched;
	bool found;
};
typedef void marker_emit_fn(void *ctx, const char *p, size_t n);
/* Feed n bytes; output before the marker goes to emit. Returns the number of
 * bytes consumed up to and including the marker (n when not found: the
 * rest after the marker is not the call's). */
size_t marker_scan_feed(struct marker_scan *s, const char *p, size_t n, marker_emit_fn *emit,
                        void *ctx);
/* The stream ended without the marker: release held-back bytes to emit. */
void marker_scan_flush(struct marker_scan *s, marker_emit_fn *emit, void *ctx);

/* A stream that runs on this far past its cap is a runaway: its sandbox is
 * killed at once instead of burning CPU until the wall-clock timeout. */
#define CAPTURE_RUNAWAY_BYTES (16u << 20)
/* Reads of CAPTURE_READ_BYTES per call of capture_read (unless draining). */
#define CAPTURE_ROUNDS 16
#define CAPTURE_READ_BYTES 65536

struct capture {
	int fd;   /* non-blocking; -1: none */
	bool eof; /* ended (or failed): off the loop, never read again */
	bool runaway;
	struct outcap o;
	struct marker_scan scan; /* marker_len 0: no marker (a one-shot run) */
	const char *who;         /* for the log ("exec", a session's id) */
};

/* A stream with no descriptor yet; cap as outcap_init's. */
void capture_init(struct capture *c, size_t cap, const char *who);
/* The sandbox's descriptor: read from now on, nothing ended yet. */
void capture_attach(struct capture *c, int fd);
/* A new call on the same stream (sessions): empty, cap kept, marker m (of
 * length ml; 0: none). The descriptor and its end are kept. */
void capture_restart(struct capture *c, const char *m, size_t ml);
/* Read what is there: CAPTURE_ROUNDS reads, or until nothing is left when
 * drain is set (the writer is gone). Bytes are kept (up to the cap and the
 * marker) when keep is set, else read and dropped (output with no call to
 * belong to). Returns true once: the read that took the stream past its cap
 * by CAPTURE_RUNAWAY_BYTES. A no-op on an ended stream. */
bool capture_read(struct capture *c, bool drain, bool keep);
/* Done: the marker was seen, or the stream ended. */
bool capture_done(const struct capture *c);
/* Hand over the kept bytes as outcap_take does (held-back bytes of a marker
 * that never came are the call's output). */
void capture_take(struct capture *c, char **buf, size_t *len, size_t *total, bool *truncated);
void capture_free(struct capture *c);

#endif
