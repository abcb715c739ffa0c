/* exec_result.c — what a run's result says: how it ended, why a session's
 * state went, freeing it. See exec.h.
 *
 * Owns: the pure functions on struct exec_result, apart from the run
 * itself, so that mcp.c's result shaping links without the sandbox (the
 * fuzz target's stub runs). Must not: touch a sandbox or the loop.
 */
#include "exec.h"

#include <stdlib.h>
#include <sys/wait.h>

enum exec_end exec_result_end(const struct exec_result *r, bool session)
{
	if (r->timed_out && session)
		return r->session_lost ? EXEC_END_TIMED_OUT_LOST : EXEC_END_TIMED_OUT_KEPT;
	if (r->timed_out)
		return EXEC_END_TIMED_OUT;
	if (r->output_killed)
		return EXEC_END_OUTPUT_RUNAWAY;
	if (r->oom_killed)
		return EXEC_END_OOM;
	return r->exit_code < 0 ? EXEC_END_SIGNALED : EXEC_END_EXITED;
}

enum exec_loss exec_result_loss(const struct exec_result *r)
{
	return r->protocol_error     ? EXEC_LOSS_PROTOCOL
	       : r->interpreter_died ? EXEC_LOSS_DIED
	       : r->session_lost     ? EXEC_LOSS_ENDED
	                             : EXEC_LOSS_NONE;
}

void exec_result_set_status(struct exec_result *res, int status)
{
	if (WIFEXITED(status))
		res->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->term_signal = WTERMSIG(status);
}

void exec_result_free(struct exec_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	ws_outputs_free(&r->files);
	free(r);
}
