/* agent_ipc.h — framing of the control channel with an in-sandbox agent.
 *
 * Owns: the wire format of agent/PROTOCOL.md ("<decimal length>\n<JSON>"
 * frames; a request is followed by the code's raw bytes) and the
 * end-of-output marker (found in a stream by capture.h's marker_scan).
 * Must not: touch descriptors or the loop, or trust a byte from the agent:
 * every frame is bounded by AGENT_FRAME_MAX and validated.
 */
#ifndef NSM_AGENT_IPC_H
#define NSM_AGENT_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_FRAME_MAX 4096 /* a reply is tens of bytes; more is a protocol error */
#define AGENT_MARKER_MAX 96

/* The request frame for call id with code_len bytes of code, followed by the
 * code: one malloc'd buffer (NULL when out of memory). */
char *agent_request(uint64_t id, const char *code, size_t code_len, size_t *len);

struct agent_reply {
	uint64_t id;
	int exit_code; /* 0..255 */
	bool interrupted;
};

/* Take one reply frame off the front of buf[0..*len). Returns 1 (reply
 * filled, the frame removed from buf), 0 (incomplete: read more), -1
 * (malformed or too large: the agent broke the protocol). */
int agent_reply_parse(char *buf, size_t *len, struct agent_reply *r);

/* The marker "\x1e<token>:<id>\x1e" into m (AGENT_MARKER_MAX); its length. */
size_t agent_marker(char *m, const char *token, uint64_t id);

#endif
