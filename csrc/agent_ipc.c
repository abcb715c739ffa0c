/* agent_ipc.c — see agent_ipc.h and agent/PROTOCOL.md. */
#include "agent_ipc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

char *agent_request(uint64_t id, const char *code, size_t code_len, size_t *len)
{
	char json[96], head[128];
	int jn = snprintf(json, sizeof json, "{\"id\":%llu,\"code_bytes\":%zu}",
	                  (unsigned long long)id, code_len);
	int hn = snprintf(head, sizeof head, "%d\n%s", jn, json);
	if (jn < 0 || hn < 0 || (size_t)hn >= sizeof head)
		return NULL;
	char *b = malloc((size_t)hn + code_len);
	if (!b)
		return NULL;
	memcpy(b, head, (size_t)hn);
	if (code_len)
		memcpy(b + hn, code, code_len);
	*len = (size_t)hn + code_len;
	return b;
}

int agent_reply_parse(char *buf, size_t *len, struct agent_reply *r)
{
	size_t i, n = 0;
	for (i = 0; i < *len && buf[i] != '\n'; i++) {
		if (buf[i] < '0' || buf[i] > '9' || i >= 6)
			return -1;
		n = n * 10 + (size_t)(buf[i] - '0');
	}
	if (i == *len)
		return 0;
	if (i == 0 || n == 0 || n > AGENT_FRAME_MAX - 8)
		return -1;
	if (*len < i + 1 + n)
		return 0;
	cJSON *j = cJSON_ParseWithLength(buf + i + 1, n);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(j, "exit_code");
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "interrupted");
	int rc = -1;
	/* Every agent reports an exit status as a shell would: 0..255. */
	if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < 9e15 &&
	    cJSON_IsNumber(ec) && ec->valuedouble >= 0 && ec->valuedouble <= 255 &&
	    (!in || cJSON_IsBool(in))) {
		r->id = (uint64_t)id->valuedouble;
		r->exit_code = (int)ec->valuedouble;
		r->interrupted = cJSON_IsTrue(in);
		rc = 1;
	}
	cJSON_Delete(j);
	if (rc == 1) {
		memmove(buf, buf + i + 1 + n, *len - (i + 1 + n));
		*len -= i + 1 + n;
	}
	return rc;
}

size_t agent_marker(char *m, const char *token, uint64_t id)
{
	int n = snprintf(m, AGENT_MARKER_MAX, "\x1e%s:%llu\x1e", token, (unsigned long long)id);
	return n < 0 ? 0 : (size_t)n < AGENT_MARKER_MAX ? (size_t)n : AGENT_MARKER_MAX - 1;
}
