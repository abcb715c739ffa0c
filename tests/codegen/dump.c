/* dump.c — prints a generated env_table.gen.h back, for the round-trip test.
 *
 * run.sh compiles this with -I csrc -I DIR, where DIR/env_table.gen.h is the
 * header under test, then compares the output with the same dump made by jq
 * straight from the JSON input (dump.jq): equal bytes prove that every string
 * literal decodes to exactly the input string, and every number and count
 * made it through. Format: one "key<TAB>value" line per scalar; strings as
 * "key<TAB>byte length<TAB>bytes" so embedded newlines stay unambiguous.
 */
#include <stdio.h>
#include <string.h>

#include "env.h"
#include "env_table.gen.h"

static void str(const char *key, size_t i, const char *sub, const char *s)
{
	if (i == (size_t)-1)
		printf("%s\t%zu\t%s\n", key, strlen(s), s);
	else
		printf("env[%zu].%s%s\t%zu\t%s\n", i, key, sub, strlen(s), s);
}

static void num(size_t i, const char *key, unsigned long v)
{
	printf("env[%zu].%s\t%lu\n", i, key, v);
}

static void strv(size_t i, const char *key, const char *const *v)
{
	char sub[32];
	size_t k;

	for (k = 0; v[k]; k++) {
		snprintf(sub, sizeof sub, "[%zu]", k);
		str(key, i, sub, v[k]);
	}
}

int main(void)
{
	const struct env_config *c = &env_config_baked;
	size_t i, k;

	str("version", (size_t)-1, "", c->version);
	str("config_hash", (size_t)-1, "", c->config_hash);
	str("log_level", (size_t)-1, "", c->log_level);
	str("project_path", (size_t)-1, "", c->project_path);
	str("project_mount", (size_t)-1, "", c->project_mount);
	for (k = 0; k < c->n_inherit_env; k++) {
		char key[48];
		snprintf(key, sizeof key, "inherit_env[%zu]", k);
		str(key, (size_t)-1, "", c->inherit_env[k]);
	}
	if (c->inherit_env[c->n_inherit_env] != NULL)
		printf("inherit_env not NULL-terminated\n");
	printf("session\t%u\t%u\t%u\n", c->session.idle_timeout_seconds,
	       c->session.max_lifetime_seconds, c->session.max_sessions);
	printf("n_envs\t%zu\n", (size_t)ENV_TABLE_LEN);
	for (i = 0; i < ENV_TABLE_LEN; i++) {
		const struct env_entry *e = &env_table[i];
		str("name", i, "", e->name);
		str("interpreter_type", i, "", e->interpreter_type);
		num(i, "interp", (unsigned long)e->interp);
		str("description", i, "", e->description);
		str("root", i, "", e->root);
		str("sh", i, "", e->sh);
		str("env_bin", i, "", e->env_bin);
		strv(i, "argv", e->argv);
		strv(i, "agent_argv", e->agent_argv);
		num(i, "n_closure", (unsigned long)e->n_closure);
		printf("env[%zu].closure_bytes\t%llu\n", i, e->closure_bytes);
		for (k = 0; k < e->n_closure; k++) {
			char sub[32];
			snprintf(sub, sizeof sub, "[%zu]", k);
			str("closure", i, sub, e->closure[k]);
		}
		if (e->closure[e->n_closure] != NULL)
			printf("env[%zu].closure not NULL-terminated\n", i);
		num(i, "network", (unsigned long)e->network);
		num(i, "warm_pool", (unsigned long)e->warm_pool);
		num(i, "limits.timeout_seconds", e->limits.timeout_seconds);
		num(i, "limits.memory_mb", e->limits.memory_mb);
		num(i, "limits.max_processes", e->limits.max_processes);
		num(i, "limits.max_open_files", e->limits.max_open_files);
		num(i, "limits.max_file_size_mb", e->limits.max_file_size_mb);
		num(i, "limits.workspace_mb", e->limits.workspace_mb);
		num(i, "limits.max_output_bytes", e->limits.max_output_bytes);
	}
	return ferror(stdout) ? 1 : 0;
}
