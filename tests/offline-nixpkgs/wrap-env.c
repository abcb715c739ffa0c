/* Tiny exec wrapper (like nixpkgs' makeBinaryWrapper): set WRAP_VAR to
 * WRAP_VAL unless already set, then exec WRAP_TARGET.  Built static so the
 * wrapped package needs no shell. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	(void)argc;
	if (setenv(WRAP_VAR, WRAP_VAL, 0) != 0) {
		perror("setenv");
		return 127;
	}
	execv(WRAP_TARGET, argv);
	perror(WRAP_TARGET);
	return 127;
}
