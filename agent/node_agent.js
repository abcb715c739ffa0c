// agent/node_agent.js — the in-sandbox side of a Node.js session.
//
// Owns: one persistent vm context in which each request's code runs (top-level
// `await` allowed), with the exit code sent back on the control descriptor.
// Must not: write protocol to stdout/stderr (only the code's output goes
// there). Protocol: agent/PROTOCOL.md.
'use strict';
const fs = require('fs');
const net = require('net');
const vm = require('vm');

const token = process.env.NSM_AGENT_TOKEN || '';
delete process.env.NSM_AGENT_TOKEN;

// The code sees a context with the usual globals of a script.
const sandbox = {
  console, process, require, Buffer, URL, URLSearchParams, TextEncoder, TextDecoder,
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate,
  queueMicrotask, structuredClone, fetch: globalThis.fetch, AbortController,
  __filename: '/workspace/<session>', __dirname: '/workspace', module: { exports: {} },
};
sandbox.global = sandbox;
sandbox.globalThis = sandbox;
const context = vm.createContext(sandbox);

let interrupt = null; // rejects the await of a running async call on SIGINT
process.on('SIGINT', () => { if (interrupt) interrupt(); });

function writeAll(fd, s) {
  const b = Buffer.from(s);
  let off = 0;
  while (off < b.length) {
    try {
      off += fs.writeSync(fd, b, off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

// Code that uses `await` at top level runs inside an async function; other
// code runs as a script so its declarations persist in the context.
function compile(code) {
  try {
    return { script: new vm.Script(code, { filename: '<session>' }), async: false };
  } catch (e) {
    if (!(e instanceof SyntaxError) || !/await/.test(code)) throw e;
    return { script: new vm.Script('(async () => {\n' + code + '\n})()', { filename: '<session>' }), async: true };
  }
}

async function run(code) {
  try {
    const { script } = compile(code);
    let value = script.runInContext(context, { breakOnSigint: true, displayErrors: false });
    if (value && typeof value.then === 'function') {
      value = await new Promise((resolve, reject) => {
        interrupt = () => reject(Object.assign(new Error('Interrupted'), { interrupted: true }));
        value.then(resolve, reject);
      });
    }
    return { code: 0, interrupted: false };
  } catch (e) {
    const interrupted = !!(e && (e.interrupted || e.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED'));
    // Keep the message and the frames of the user's code, not the agent's.
    const text = e && e.stack
      ? e.stack.split('\n').filter((l, i) => i === 0 || !/^\s+at /.test(l) || l.includes('<session>')).join('\n')
      : String(e);
    writeAll(2, (interrupted ? 'Interrupted (timeout)' : 'Uncaught ' + text) + '\n');
    return { code: interrupted ? 130 : 1, interrupted };
  } finally {
    interrupt = null;
  }
}

const ctl = new net.Socket({ fd: 3, readable: true, writable: true });
let buf = Buffer.alloc(0);
let busy = false;

function send(obj) {
  const s = JSON.stringify(obj);
  ctl.write(Buffer.byteLength(s) + '\n' + s);
}

async function pump() {
  if (busy) return;
  for (;;) {
    const nl = buf.indexOf(10);
    if (nl < 0) return;
    const hlen = parseInt(buf.subarray(0, nl).toString(), 10);
    if (buf.length < nl + 1 + hlen) return;
    const req = JSON.parse(buf.subarray(nl + 1, nl + 1 + hlen).toString());
    const total = nl + 1 + hlen + req.code_bytes;
    if (buf.length < total) return;
    const code = buf.subarray(nl + 1 + hlen, total).toString();
    buf = buf.subarray(total);
    busy = true;
    const r = await run(code);
    const marker = '\x1e' + token + ':' + req.id + '\x1e';
    writeAll(1, marker);
    writeAll(2, marker);
    send({ id: req.id, exit_code: r.code, interrupted: r.interrupted });
    busy = false;
  }
}

ctl.on('data', (d) => { buf = Buffer.concat([buf, d]); pump(); });
ctl.on('end', () => process.exit(0));
ctl.on('error', () => process.exit(0));
// An unhandled rejection from a previous call's stray promise must not kill
// the session: report it on stderr.
process.on('unhandledRejection', (e) => writeAll(2, 'Unhandled rejection: ' + (e && e.stack || e) + '\n'));
