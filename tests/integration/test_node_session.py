"""Node sessions keep what a cell declares, with and without top-level
`await` (README, Sessions): let, const, var, function, class, destructuring,
closures that share one variable with later cells, and declarations made
before an exception."""
import os
import sys

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
s = Server(BIN)
s.initialize()


def cell(code, session):
    r = s.run(code, "node", session=session)
    return (r or {}).get("structuredContent", {}) if isinstance(r, dict) else {}


cases = [
    # (what, cell that declares, cell that reads, expected stdout of the reader)
    ("const with await", "const a = await Promise.resolve(5);", "console.log(a)", "5\n"),
    ("let after await", "let l = 1; await null;", "console.log(l)", "1\n"),
    ("var with await", "var v = await 2;", "console.log(v)", "2\n"),
    ("function in an await cell", "await null; function f(x) { return x * 3 }", "console.log(f(2))", "6\n"),
    ("async function in an await cell", "async function g() { return 4 } await null;",
     "console.log(await g())", "4\n"),
    ("class in an await cell", "await null; class K { m() { return 'k' } }", "console.log(new K().m())", "k\n"),
    ("destructuring in an await cell", "const {x, y: [z, w = 9], ...rest} = await {x: 1, y: [2], q: 3};",
     "console.log(x, z, w, JSON.stringify(rest))", '1 2 9 {"q":3}\n'),
    ("const without await", "const p = 7;", "console.log(p)", "7\n"),
    ("let without await", "let q = 8;", "console.log(q)", "8\n"),
    ("function without await", "function h() { return 'h' }", "console.log(h())", "h\n"),
    ("class without await", "class C { static n() { return 'c' } }", "console.log(C.n())", "c\n"),
    ("a closure shares the variable with later cells",
     "let count = 0; const inc = () => ++count; await null;", "inc(); inc(); console.log(count)", "2\n"),
    ("declarations before an exception are kept", "const e1 = 10; await null; throw new Error('boom')",
     "console.log(e1)", "10\n"),
    ("a name from an earlier plain cell is updated by an await cell",
     "let u = 1; u = await Promise.resolve(u + 1);", "console.log(u)", "2\n"),
]
for i, (what, decl, read, want) in enumerate(cases):
    sess = "node-%d" % i
    d = cell(decl, sess)
    r = cell(read, sess)
    t.ok(r.get("stdout") == want and r.get("exit_code") == 0,
         "node session: %s is there next call" % what, {"declare": d, "read": r})

# Block-scoped names stay in their block; strings and regexes that look like
# declarations declare nothing.
sess = "node-scope"
cell("if (true) { let inner = await 1 } const str = 'let fake = 1'; const re = /let x = 2/;", sess)
r = cell("console.log(typeof inner, typeof fake, typeof x, typeof str)", sess)
t.ok(r.get("stdout") == "undefined undefined undefined string\n",
     "node session: only top-level declarations are kept", r)
# An error's line number is the line of the user's code.
r = cell("await null;\nthrow new Error('here')", "node-lines")
t.ok(r.get("exit_code") == 1 and "<session>:2:" in r.get("stderr", ""),
     "node session: an error in an await cell names the user's line", r)
t.ok(s.close() == 0, "clean exit")
sys.exit(t.done())
