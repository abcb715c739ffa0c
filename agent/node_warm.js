// agent/node_warm.js — the warm one-shot launcher for Node.
//
// Owns: starting Node before the code exists, then running the code file
// (process.argv[2]) as `node FILE` would: one run, then the process ends with
// the code's own exit status.
// Must not: load a module the code could see (it uses only `fs`, which
// Node's start-up loaded already, and the Module class it was loaded by),
// stay in require.cache, or run anything but the one code file.
//
// Protocol (csrc/jail_child.c): the sandbox init starts us with fd 3 the read
// end of a pipe, and closes its write end once the code file is in place and
// read-only. EOF on fd 3 is "go". The differences from a cold start that
// remain are listed in README.md ("Warm one-shot runs").
'use strict';
(function launch() {
  const fs = require('fs');
  const Module = module.constructor; // require('module') would be a new load
  const buf = Buffer.allocUnsafe(64);
  for (;;) {
    let n;
    try {
      n = fs.readSync(3, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
      throw e;
    }
    if (n === 0) break;
  }
  fs.closeSync(3);
  const path = process.argv[2];
  // `node FILE` leaves argv as [node, FILE]; the code is loaded exactly as
  // Node's own start-up does it (lib/internal/main/run_main_module.js:
  // Module.runMain), so require.main, module.id '.', process.mainModule,
  // CommonJS/ESM detection and the error printed for an uncaught throw are
  // Node's own. It runs from the next tick, so no frame of this file is
  // under the code's (the bottom frame is Node's tick queue instead).
  process.argv.splice(1, 2, path);
  delete require.cache[__filename];
  process.nextTick(Module.runMain, path);
})();
