/* exec.h — a one-shot run of code in a fresh sandbox.
 *
 * Owns: the run's channels on the event loop (code in, stdout/stderr out,
 * the sandbox init's pidfd), its deadline, the output caps and the result.
 * Must not: block (everything goes through loop.h), call the callback from
 * inside exec_start, or keep anything after the callback or exec_cancel.
 *
 * Output: each stream is captured up to env->limits.max_output_bytes; what
 * comes after is read and counted (out_total/err_total) but not kept, and the
 * stream is marked truncated. A stream that runs on for CAPTURE_RUNAWAY_BYTES
 * (capture.h) past its cap is a runaway: the sandbox is killed at once (output_killed)
 * instead of burning CPU until the wall-clock timeout.
 */
#ifndef NSM_EXEC_H
#define NSM_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "env.h"
#include "err.h"
#include "wsfiles.h"

struct exec_request {
	const struct env_entry *env;
	const char *code; /* copied by exec_start; at most JAIL_CODE_MAX bytes */
	size_t code_len;
	const char *project_dir;   /* host directory, NULL: none */
	const char *project_mount; /* where it appears, e.g. "/project" */
	struct ws_inputs *files;   /* NULL, or written under /workspace before the
	                            * code runs: exec_start takes them (*files is
	                            * emptied, whatever the outcome) */
};

struct exec_result {
	int exit_code;      /* -1 when killed by a signal, timed out or not started */
	int term_signal;    /* signal that ended the interpreter (SIGKILL on timeout), else 0 */
	bool timed_out;     /* wall clock reached: every process of the sandbox killed */
	bool oom_killed;    /* the kernel OOM-killed a process (cgroup v2 mode only) */
	bool output_killed; /* killed as an output runaway (see above) */
	bool stdout_truncated;
	bool stderr_truncated;
	char *out; /* NUL-terminated for convenience; out_len excludes the NUL */
	size_t out_len;
	size_t out_total; /* bytes the program wrote to stdout */
	char *err;
	size_t err_len;
	size_t err_total;
	uint64_t duration_ms;  /* from exec_start to the sandbox's end */
	char setup_error[512]; /* non-empty: the jail failed before the code ran; says what
	                          and what to do */
	/* Session calls only (session.c fills them; one-shot runs leave them false). */
	bool interrupted;           /* the agent interrupted the code (SIGINT) and kept its state */
	bool session_lost;          /* the session's sandbox ended during this call: state lost */
	bool interpreter_died;      /* ... because the interpreter exited or crashed */
	bool protocol_error;        /* ... because the agent broke the protocol (killed) */
	bool restarted;             /* ran in a fresh sandbox replacing a lost one */
	const char *restart_reason; /* with restarted: why the state was lost (static text) */
	/* Files: the input files could not be written (the code did not run);
	 * what the code left under /workspace/out (wsfiles.h). */
	char files_error[300];
	struct ws_outputs files;
};

/* How a run (or a session call) ended, the first that applies: what its
 * result's status line says (mcp.c has one message per value). */
enum exec_end {
	EXEC_END_TIMED_OUT,      /* one-shot: our deadline; every process killed */
	EXEC_END_TIMED_OUT_KEPT, /* session: interrupted at its deadline, state kept */
	EXEC_END_TIMED_OUT_LOST, /* session: did not stop on SIGINT; sandbox killed */
	EXEC_END_OUTPUT_RUNAWAY, /* killed: output far past its cap */
	EXEC_END_OOM,            /* killed by the kernel: out of memory */
	EXEC_END_SIGNALED,       /* a signal ended the interpreter: term_signal */
	EXEC_END_EXITED,         /* the code exited: exit_code */
};
enum exec_end exec_result_end(const struct exec_result *r, bool session);

/* A session call after which the session's state is gone, and why. */
enum exec_loss {
	EXEC_LOSS_NONE,
	EXEC_LOSS_PROTOCOL, /* the agent broke its protocol and was killed */
	EXEC_LOSS_DIED,     /* the interpreter exited or crashed */
	EXEC_LOSS_ENDED,    /* the sandbox ended otherwise */
};
enum exec_loss exec_result_loss(const struct exec_result *r);

/* Called from the loop exactly once per run unless cancelled. res belongs to
 * the callee: free it with exec_result_free. The run is gone when called. */
typedef void exec_done_cb(void *ctx, struct exec_result *res);

struct exec_run;

/* Start a run. NULL with e filled when the server could not (bad request,
 * out of fds/memory, loop tables full); failures of the jail itself come
 * back through cb as setup_error. */
struct exec_run *exec_start(const struct exec_request *req, exec_done_cb *cb, void *ctx,
                            struct err *e);
/* Kill every process of the run's sandbox now. cb is not called; r is
 * invalid afterwards; the last resources (the pidfd of the dying init) are
 * released from the loop within milliseconds. */
void exec_cancel(struct exec_run *r);
/* At exit, once the loop has stopped: reap every cancelled run (blocks
 * until the kernel has torn their sandboxes down; SIGKILLed, so briefly). */
void exec_shutdown(void);
void exec_result_free(struct exec_result *r);
/* exit_code or term_signal from the interpreter's wait status. */
void exec_result_set_status(struct exec_result *res, int status);
/* Bytes the run wrote so far on stdout and stderr (progress reports). */
size_t exec_output_bytes(const struct exec_run *r);
/* Runs started and not yet answered, plus sandboxes not yet reaped
 * (reaper.h) (tests, shutdown). */
int exec_active(void);

#endif
