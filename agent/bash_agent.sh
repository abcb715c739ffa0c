# agent/bash_agent.sh — the in-sandbox side of a Bash session.
#
# Owns: one persistent shell in which each request's code is eval'ed, so
# variables, functions, the working directory and exported variables persist.
# Must not: write protocol to stdout/stderr (only the code's output goes
# there) or let the code read the control descriptor (fd 3) or stdin.
#
# Protocol: agent/PROTOCOL.md. Framing is read with LC_ALL=C so that
# `read -N` counts bytes.
#
# The code runs in this shell, so it could break the loop below: every
# command here is a keyword, `builtin X` or `command X` (a function named
# `read`, `printf` or `mkdir` is not called), the code file is written with
# `>|` (noclobber), and the code gets fd 1 and 2 as copies that this shell
# takes back after it (`exec 1>&-` or `exec >file` lasts one call, as in the
# Python and Node agents). A function named `builtin` or `command` still
# breaks this loop (the call runs into its timeout, the state is lost).

__nsm_token=${NSM_AGENT_TOKEN-}
unset NSM_AGENT_TOKEN

__nsm_send() { # JSON reply (ASCII) → "<len>\n<json>" on fd 3
	builtin printf '%d\n%s' "${#1}" "$1" >&3
}

# The code is sourced, not eval'ed in a function: `declare` at its top level
# then makes globals, as in a script. SIGINT (the server's "this call is over
# time") aborts the sourced code but not the shell: the trap returns from it.
__nsm_dir=${TMPDIR:-/tmp}/.nsm-agent
__nsm_file=$__nsm_dir/code.sh

# Between calls SIGINT is ignored: an interrupt that arrives just after a
# call ended must not kill the shell (and with it the session's state).
trap '' INT
# This shell's own stdout and stderr, to lend the code copies of (above).
exec {__nsm_out}>&1 {__nsm_err}>&2

while :; do
	LC_ALL=C IFS= builtin read -r __nsm_len <&3 || builtin exit 0
	LC_ALL=C IFS= builtin read -r -N "$__nsm_len" __nsm_req <&3 || builtin exit 0
	[[ $__nsm_req =~ \"id\":\ *([0-9]+) ]] || builtin exit 1
	__nsm_id=${BASH_REMATCH[1]}
	[[ $__nsm_req =~ \"code_bytes\":\ *([0-9]+) ]] || builtin exit 1
	__nsm_n=${BASH_REMATCH[1]}
	if ((__nsm_n > 65536)); then
		# read -N reads a byte at a time from a socket; head reads blocks.
		# Safe because the server sends nothing more until we reply.
		__nsm_code=$(command head -c "$__nsm_n" <&3; builtin printf x)
		__nsm_code=${__nsm_code%x}
	elif ((__nsm_n > 0)); then
		LC_ALL=C IFS= builtin read -r -N "$__nsm_n" __nsm_code <&3 || builtin exit 0
	else
		__nsm_code=
	fi
	__nsm_interrupted=false
	[[ -d $__nsm_dir ]] || command mkdir -p "$__nsm_dir"
	builtin printf '%s' "$__nsm_code" >|"$__nsm_file"
	builtin trap 'builtin trap "" INT; return 130' INT
	builtin . "$__nsm_file" 3<&- </dev/null 1>&"$__nsm_out" 2>&"$__nsm_err" \
		{__nsm_out}>&- {__nsm_err}>&-
	__nsm_rc=$?
	builtin trap '' INT
	((__nsm_rc == 130)) && __nsm_interrupted=true
	builtin printf '\036%s:%s\036' "$__nsm_token" "$__nsm_id"
	builtin printf '\036%s:%s\036' "$__nsm_token" "$__nsm_id" >&2
	__nsm_send "{\"id\":$__nsm_id,\"exit_code\":$__nsm_rc,\"interrupted\":$__nsm_interrupted}"
done
