/* Unit tests for csrc/err.c: messages with context, and the kind that says
 * whom a message is for (err.h). */
#include <errno.h>
#include <string.h>

#include "err.h"
#include "tap.h"

int main(void)
{
	struct err e = { 0 };
	TAP_OK(e.kind == ERR_SERVER, "an error initialised as { 0, \"\" } is the server's");
	TAP_OK(err_client(&e, EBUSY, "busy %d", 3) == -1 && e.kind == ERR_CLIENT &&
	           e.code == EBUSY && !strcmp(e.msg, "busy 3"),
	       "err_client: the client's, formatted (%s)", e.msg);
	err_wrap(&e, "session %s", "a");
	TAP_OK(e.kind == ERR_CLIENT && !strcmp(e.msg, "session a: busy 3"),
	       "err_wrap adds context and keeps the kind (%s)", e.msg);
	TAP_OK(err_set(&e, ENOMEM, "out of memory") == -1 && e.kind == ERR_SERVER,
	       "err_set makes a server error, whatever e held before");
	err_client(&e, 0, "x");
	TAP_OK(err_sys(&e, EPERM, "clone") == -1 && e.kind == ERR_SERVER &&
	           !strcmp(e.msg, "clone: Operation not permitted"),
	       "err_sys: the server's, with strerror (%s)", e.msg);
	TAP_OK(err_kernel(&e) == -1 && e.kind == ERR_KERNEL && e.code == EPERM &&
	           !strcmp(e.msg, "clone: Operation not permitted"),
	       "err_kernel marks the kind only");
	err_sys(&e, EMFILE, "pipe");
	TAP_OK(strstr(e.msg, "RLIMIT_NOFILE") && strstr(e.msg, "ulimit -n"),
	       "out of descriptors names the server's own limit (%s)", e.msg);
	char big[400];
	memset(big, 'a', sizeof big);
	memcpy(big + 254, "\xc3\xa9", 2); /* é across the 255-byte boundary */
	big[sizeof big - 1] = '\0';
	err_set(&e, 0, "%s", big);
	TAP_OK(strlen(e.msg) == 254, "a long message is cut before a split character (%zu)",
	       strlen(e.msg));
	return TAP_DONE();
}
