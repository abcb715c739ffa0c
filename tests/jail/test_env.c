/* test_env.c — a test-only environment table (stands in for env.c and the
 * generated header): the "closure" is host directories, so the host's bash,
 * python3 and node run inside the jail, plus the probe's build directory. */
#include <string.h>
#include "../../csrc/env.h"

#ifndef PROBE_DIR
#error "build with -DPROBE_DIR=\"/abs/path/of/the/probe/dir\""
#endif

static const char *const closure[] = { "/bin",   "/etc/alternatives", "/lib", "/lib64", "/usr",
	                               PROBE_DIR };
#define N_CLOSURE (sizeof closure / sizeof closure[0])

static const char *const bash_argv[] = { "/usr/bin/bash", "--noprofile", "--norc", NULL };
static const char *const python_argv[] = { "/usr/bin/python3", NULL };
static const char *const node_argv[] = { "/usr/bin/node", NULL };
static const char *const no_agent[] = { "/usr/bin/false", NULL };

#define LIMITS(t)                                                                 \
	{                                                                         \
		.timeout_seconds = (t), .memory_mb = 256, .max_processes = 32,    \
		.max_open_files = 64, .max_file_size_mb = 16, .workspace_mb = 32, \
		.max_output_bytes = 65536                                         \
	}

#define ENV(n, it, i, av, net, t)                                                             \
	{                                                                                     \
		.name = n, .interpreter_type = it, .interp = i, .description = "test " n,     \
		.root = "/usr", .sh = "/usr/bin/bash", .env_bin = "/usr/bin/env", .argv = av, \
		.agent_argv = no_agent, .closure = closure, .n_closure = N_CLOSURE,           \
		.network = net, .limits = LIMITS(t)                                           \
	}

static const struct env_entry envs[] = {
	ENV("bash", "bash", ENV_INTERP_BASH, bash_argv, 0, 10),
	ENV("python", "python", ENV_INTERP_PYTHON, python_argv, 0, 10),
	ENV("node", "node", ENV_INTERP_NODE, node_argv, 0, 10),
	ENV("bash-short", "bash", ENV_INTERP_BASH, bash_argv, 0, 2),
	ENV("bash-net", "bash", ENV_INTERP_BASH, bash_argv, 1, 10),
	ENV("node-short", "node", ENV_INTERP_NODE, node_argv, 0, 3),
	ENV("python-short", "python", ENV_INTERP_PYTHON, python_argv, 0, 3),
};

static const struct env_config config = {
	.version = "test",
	.config_hash = "0",
	.log_level = "info",
	.project_path = "",
	.project_mount = "/project",
	.session = { 300, 3600, 4 },
};

size_t env_count(void)
{
	return sizeof envs / sizeof envs[0];
}

const struct env_entry *env_at(size_t i)
{
	return i < env_count() ? &envs[i] : NULL;
}

const struct env_entry *env_find(const char *name)
{
	for (size_t i = 0; i < env_count(); i++)
		if (strcmp(envs[i].name, name) == 0)
			return &envs[i];
	return NULL;
}

const struct env_config *env_config(void)
{
	return &config;
}
