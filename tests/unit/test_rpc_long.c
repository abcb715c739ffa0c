/* Unit test for csrc/rpc.c: a line over RPC_MAX_LINE is rejected once,
 * skipped without being buffered, and the next message is handled. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "rpc.h"
#include "tap.h"

static int handled;

static void on_msg(const cJSON *msg)
{
	(void)msg;
	handled++;
}

int main(void)
{
	int in[2], out[2];
	struct err e;
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC | O_NONBLOCK))
		return 1;
	fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
	TAP_OK(rpc_start(in[0], out[1], on_msg, &e) == 0, "rpc_start");
	pid_t pid = fork();
	if (pid == 0) {
		static char chunk[65536];
		memset(chunk, 'x', sizeof chunk);
		for (size_t sent = 0; sent < RPC_MAX_LINE + 300000; sent += sizeof chunk)
			if (write(in[1], chunk, sizeof chunk) < 0)
				_exit(1);
		const char *tail = "\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n";
		if (write(in[1], tail, strlen(tail)) < 0)
			_exit(1);
		_exit(0);
	}
	close(in[1]);
	while (!rpc_input_closed())
		loop_run_once(1000, &e);
	waitpid(pid, NULL, 0);
	char buf[4096];
	ssize_t n = read(out[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	TAP_OK(strstr(buf, "-32600") && strstr(buf, "16 MiB"), "the over-long line gets -32600");
	TAP_OK(strchr(buf, '\n') == strrchr(buf, '\n'), "exactly one error for it");
	TAP_OK(handled == 1, "the next message is handled");
	return TAP_DONE();
}
