/* Unit tests for csrc/capture.c: the read loop one-shot runs and session
 * calls share, driven through a real non-blocking pipe. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "loop.h"
#include "tap.h"

static int pipe_nb(int p[2])
{
	return pipe2(p, O_NONBLOCK | O_CLOEXEC);
}

static size_t fill(int fd, char ch, size_t n)
{
	static char buf[65536];
	size_t done = 0;
	memset(buf, ch, sizeof buf);
	while (done < n) {
		size_t k = n - done < sizeof buf ? n - done : sizeof buf;
		ssize_t w = write(fd, buf, k);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	return done;
}

static void on_fd(void *ctx, int fd, short revents)
{
	(void)ctx;
	(void)fd;
	(void)revents;
}

int main(void)
{
	struct capture c;
	int p[2];
	char *buf;
	size_t len, total;
	bool trunc;
	struct err e;

	/* Kept up to the cap, counted past it; nothing read is lost from the
	 * count; EOF takes the descriptor off the loop. */
	if (pipe_nb(p) < 0)
		return 1;
	capture_init(&c, 10, "test");
	capture_attach(&c, p[0]);
	TAP_OK(loop_watch(p[0], POLLIN, on_fd, NULL, &e) == 0, "watched");
	TAP_OK(write(p[1], "hello world, more", 17) == 17, "written");
	TAP_OK(!capture_read(&c, false, true), "no runaway for 17 bytes");
	TAP_OK(!c.eof && loop_watch_count() == 1, "not ended while the writer is there");
	close(p[1]);
	capture_read(&c, false, true);
	TAP_OK(c.eof && loop_watch_count() == 0, "EOF ends the stream and unwatches it");
	TAP_OK(capture_done(&c), "an ended stream is done");
	capture_take(&c, &buf, &len, &total, &trunc);
	TAP_OK(len == 10 && total == 17 && trunc && !memcmp(buf, "hello worl", 10),
	       "kept to the cap, counted past it (%zu of %zu)", len, total);
	free(buf);
	close(p[0]);

	/* Bounded work per call: one noisy stream cannot hold the loop (a file
	 * stands in for a pipe fuller than a pipe can be). */
	FILE *f = tmpfile();
	if (!f)
		return 1;
	size_t wrote = fill(fileno(f), 'x', (size_t)(CAPTURE_ROUNDS + 8) * CAPTURE_READ_BYTES);
	lseek(fileno(f), 0, SEEK_SET);
	capture_init(&c, 1 << 20, "test");
	capture_attach(&c, fileno(f));
	capture_read(&c, false, true);
	TAP_OK(c.o.total == (size_t)CAPTURE_ROUNDS * CAPTURE_READ_BYTES && !c.eof,
	       "one call reads at most %d x %d bytes (%zu of %zu)", CAPTURE_ROUNDS,
	       CAPTURE_READ_BYTES, c.o.total, wrote);
	capture_read(&c, true, true);
	TAP_OK(c.o.total == wrote && c.eof, "draining reads all there is (%zu)", c.o.total);
	capture_free(&c);
	fclose(f);
	if (pipe_nb(p) < 0)
		return 1;

	/* keep = false: read and dropped, not counted as the call's. */
	fill(p[1], 'y', 100);
	capture_init(&c, 1 << 20, "test");
	capture_attach(&c, p[0]);
	capture_read(&c, true, false);
	TAP_OK(c.o.total == 0 && c.o.len == 0, "output with no call is dropped");
	char probe;
	TAP_OK(read(p[0], &probe, 1) < 0, "and it was read (the pipe is empty)");

	/* The marker: before it is the call's, after it is not; split
	 * across reads it is still found and stripped. */
	const char *m = "\x1e"
	                "tok:1\x1e";
	capture_restart(&c, m, strlen(m));
	TAP_OK(!capture_done(&c), "a restarted stream waits for its marker");
	TAP_OK(write(p[1], "out\x1etok", 7) == 7, "first half");
	capture_read(&c, false, true);
	TAP_OK(!capture_done(&c) && c.o.len == 3, "a marker's beginning is held back");
	TAP_OK(write(p[1],
	             ":1\x1e"
	             "after",
	             8) == 8,
	       "second half");
	capture_read(&c, false, true);
	TAP_OK(capture_done(&c), "the marker ends the call's output");
	capture_take(&c, &buf, &len, &total, &trunc);
	TAP_OK(len == 3 && !memcmp(buf, "out", 3) && !trunc, "only what came before it is kept");
	free(buf);
	/* A marker that never comes: its held-back start is output. */
	capture_restart(&c, m, strlen(m));
	TAP_OK(write(p[1], "end\x1etok:", 8) == 8, "a false start");
	capture_read(&c, false, true);
	capture_take(&c, &buf, &len, &total, &trunc);
	TAP_OK(len == 8 && !memcmp(buf, "end\x1etok:", 8), "held-back bytes are released");
	free(buf);

	/* Runaway: said once, when the stream passes cap + the threshold. */
	capture_restart(&c, NULL, 0);
	c.o.cap = 4;
	int hits = 0, calls = 0;
	size_t want = CAPTURE_RUNAWAY_BYTES + 4 + 2 * CAPTURE_READ_BYTES;
	for (size_t sent = 0; sent < want; calls++) {
		sent += fill(p[1], 'z', CAPTURE_READ_BYTES);
		hits += capture_read(&c, false, true);
	}
	TAP_OK(hits == 1, "runaway said once (%d times in %d calls)", hits, calls);
	TAP_OK(c.runaway && c.o.len == 4, "and only the cap is kept (%zu)", c.o.len);
	capture_restart(&c, NULL, 0);
	TAP_OK(!c.runaway, "a new call starts with no runaway");
	capture_free(&c);
	close(p[0]);
	close(p[1]);

	/* A read error ends the stream (a closed descriptor: EBADF). */
	capture_init(&c, 16, "test");
	capture_attach(&c, p[0]);
	capture_read(&c, false, true);
	TAP_OK(c.eof, "a failed read ends the stream");
	TAP_OK(!capture_read(&c, true, true) && c.o.total == 0, "an ended stream is not read");
	capture_free(&c);
	return TAP_DONE();
}
