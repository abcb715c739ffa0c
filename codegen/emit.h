/* emit.h — struct cg_spec → the text of env_table.gen.h.
 *
 * Owns: the layout of the generated header (what csrc/env.c can rely on).
 * Must not: validate input semantics (parse.c has done that) or write to any
 * file: the whole header is built in memory so nothing partial is ever output.
 */
#ifndef NSM_CODEGEN_EMIT_H
#define NSM_CODEGEN_EMIT_H

#include "buf.h"
#include "spec.h"

/* Append the header to out. Returns 0, or -1 after filling e. */
int cg_emit(const struct cg_spec *s, struct buf *out, struct cg_err *e);

#endif
