/* bench.c — one-shot latency of the jail (not a test): median wall time of
 * `bash FILE` with FILE = "true" through exec_start (the whole path: spawn,
 * namespaces, mounts, code transfer, seccomp, exec, reap, result), against
 * `bwrap --unshare-all` with equivalent read-only binds running
 * `bash -c true`, both from this process, N launches each. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../csrc/exec.h"
#include "../../csrc/jail.h"
#include "../../csrc/log.h"
#include "../../csrc/loop.h"
#include "../../csrc/spawner.h"

extern char **environ;

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int done;
static void on_done(void *ctx, struct exec_result *r)
{
	(void)ctx;
	if (r->exit_code != 0)
		fprintf(stderr, "run failed: %d %s\n", r->exit_code, r->setup_error);
	exec_result_free(r);
	done = 1;
}

static void report(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof *t, cmp);
	printf("%-52s median %7.2f ms  p10 %6.2f  p90 %6.2f  (n=%d)\n", what, t[n / 2] / 1000,
	       t[n / 10] / 1000, t[n * 9 / 10] / 1000, n);
}

static void bench_exec(const char *env, const char *code, const char *label, int n)
{
	double *t = calloc((size_t)n, sizeof *t);
	struct err e;
	struct exec_request rq = { env_find(env), code, strlen(code), NULL, NULL, NULL };
	for (int i = 0; i < n + 5; i++) {
		done = 0;
		double t0 = now_us();
		if (!exec_start(&rq, on_done, NULL, &e)) {
			fprintf(stderr, "exec_start: %s\n", e.msg);
			exit(1);
		}
		while (!done)
			loop_run_once(-1, &e);
		if (i >= 5)
			t[i - 5] = now_us() - t0;
	}
	report(label, t, n);
	free(t);
}

static void bench_spawn(char *const argv[], const char *label, int n)
{
	double *t = calloc((size_t)n, sizeof *t);
	for (int i = 0; i < n + 5; i++) {
		pid_t pid;
		int st;
		double t0 = now_us();
		if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
			perror("posix_spawn");
			exit(1);
		}
		waitpid(pid, &st, 0);
		if (st != 0) {
			fprintf(stderr, "%s failed: status %d\n", argv[0], st);
			exit(1);
		}
		if (i >= 5)
			t[i - 5] = now_us() - t0;
	}
	report(label, t, n);
	free(t);
}

int main(int argc, char **argv)
{
	struct err e;
	int n = argc > 1 ? atoi(argv[1]) : 200;
	log_set_level(LOG_WARNING);
	if (jail_init(&e) < 0) {
		fprintf(stderr, "jail_init: %s\n", e.msg);
		return 1;
	}
	if (spawner_init(&e) < 0) {
		fprintf(stderr, "spawner_init: %s\n", e.msg);
		return 1;
	}
	printf("enforcement: %s\n", jail_enforcement());
	char *plain[] = { "/usr/bin/bash", "--noprofile", "--norc", "-c", "true", NULL };
	bench_spawn(plain, "bash -c true (fork+exec, no jail)", n);
	bench_exec("bash", "true", "exec_start bash FILE(true), own net ns", n);
	bench_exec("bash-net", "true", "exec_start bash FILE(true), host net", n);
	char *bw[] = { "/usr/bin/bwrap",
		       "--unshare-all",
		       "--die-with-parent",
		       "--ro-bind",
		       "/usr",
		       "/usr",
		       "--symlink",
		       "usr/bin",
		       "/bin",
		       "--symlink",
		       "usr/lib",
		       "/lib",
		       "--symlink",
		       "usr/lib64",
		       "/lib64",
		       "--ro-bind",
		       "/etc/alternatives",
		       "/etc/alternatives",
		       "--proc",
		       "/proc",
		       "--dev",
		       "/dev",
		       "--tmpfs",
		       "/tmp",
		       "--tmpfs",
		       "/workspace",
		       "--chdir",
		       "/workspace",
		       "--clearenv",
		       "--setenv",
		       "PATH",
		       "/usr/bin",
		       "/usr/bin/bash",
		       "--noprofile",
		       "--norc",
		       "-c",
		       "true",
		       NULL };
	if (access(bw[0], X_OK) == 0)
		bench_spawn(bw, "bwrap --unshare-all, same ro binds, bash -c true", n);
	else
		printf("bwrap not installed: apt-get install -y bubblewrap\n");
	bench_exec("python", "pass", "exec_start python3 FILE(pass)", n / 4);
	jail_fini();
	return 0;
}
