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
// code runs as a script so its declarations persist in the context. In the
// async function, top-level declarations would be local to it, so (as Node's
// REPL does) they are made function-wide (`let`/`const` -> `var`, `class C`
// -> `var C = class C`) and, when the cell ends (also by an exception),
// exported to the context: a name nothing else holds becomes a live accessor
// of the function's variable (closures and later cells see one variable);
// a name an earlier cell declared gets the value.
const KEYWORDS_BEFORE_REGEX = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new',
  'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

// JavaScript tokens, enough to find top-level declarations: strings,
// template literals, comments and regex literals are skipped whole.
function tokenize(src) {
  const toks = [];
  let i = 0;
  let depthStack = []; // template literal ${ } nesting: brace depth at each ${
  let braces = 0;
  const prevSig = () => toks.length ? toks[toks.length - 1] : null;
  const regexAllowed = () => {
    const p = prevSig();
    if (!p) return true;
    if (p.type === 'punct') return !/^[)\]}]$/.test(p.value);
    if (p.type === 'name') return KEYWORDS_BEFORE_REGEX.has(p.value);
    return false;
  };
  const skipTemplate = () => { // at a ` or after a }: up to ${ or closing `
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') { i += 2; continue; }
      if (c === '`') { i++; return false; }
      if (c === '$' && src[i + 1] === '{') { i += 2; return true; }
      i++;
    }
    return false;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') { toks.push({ type: 'nl', start: i, end: i + 1 }); i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && src[i + 1] === '/') { while (i < src.length && src[i] !== '\n') i++; continue; }
    if (c === '/' && src[i + 1] === '*') {
      const e = src.indexOf('*/', i + 2);
      i = e < 0 ? src.length : e + 2;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      for (i++; i < src.length && src[i] !== c && src[i] !== '\n'; i++) if (src[i] === '\\') i++;
      i++;
      toks.push({ type: 'str', start, end: i });
      continue;
    }
    if (c === '`') {
      i++;
      if (skipTemplate()) { depthStack.push(braces); braces++; }
      toks.push({ type: 'str', start, end: i });
      continue;
    }
    if (c === '}' && depthStack.length && depthStack[depthStack.length - 1] === braces - 1) {
      braces--; depthStack.pop(); i++;
      if (skipTemplate()) { depthStack.push(braces); braces++; }
      toks.push({ type: 'str', start, end: i });
      continue;
    }
    if (c === '/' && regexAllowed()) {
      let inClass = false;
      for (i++; i < src.length && src[i] !== '\n'; i++) {
        if (src[i] === '\\') { i++; continue; }
        if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
        else if (src[i] === '/' && !inClass) break;
      }
      for (i++; i < src.length && /[a-z]/i.test(src[i]); i++);
      toks.push({ type: 'regex', start, end: i });
      continue;
    }
    if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      for (i++; i < src.length && /[\w$\u0080-\uffff]/.test(src[i]); i++);
      toks.push({ type: 'name', value: src.slice(start, i), start, end: i });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1]))) {
      for (i++; i < src.length && /[\w.]/.test(src[i]); i++);
      toks.push({ type: 'num', start, end: i });
      continue;
    }
    if (src.startsWith('...', i)) { i += 3; toks.push({ type: 'punct', value: '...', start, end: i }); continue; }
    if (c === '=' && src[i + 1] === '>') { i += 2; toks.push({ type: 'punct', value: '=>', start, end: i }); continue; }
    if (c === '{') braces++;
    if (c === '}') braces--;
    i++;
    toks.push({ type: 'punct', value: c, start, end: i });
  }
  return toks;
}

// The names a binding target introduces ({a, b: c, ...d}, [e, , f = 1]);
// returns the index after it.
function bindingNames(toks, k, names) {
  const t = toks[k];
  if (!t) return k;
  if (t.type === 'name') { names.add(t.value); return k + 1; }
  if (t.type !== 'punct' || (t.value !== '{' && t.value !== '[')) return k + 1;
  const close = t.value === '{' ? '}' : ']';
  const obj = t.value === '{';
  k++;
  while (k < toks.length) {
    let u = toks[k];
    if (u.type === 'nl') { k++; continue; }
    if (u.type === 'punct' && u.value === close) return k + 1;
    if (u.type === 'punct' && u.value === ',') { k++; continue; }
    if (u.type === 'punct' && u.value === '...') { k = bindingNames(toks, k + 1, names); continue; }
    if (obj) {
      // key (name, string, number or [computed]) then ':' target, or a shorthand name
      let key = u;
      if (u.type === 'punct' && u.value === '[') k = skipBalanced(toks, k); else k++;
      while (toks[k] && toks[k].type === 'nl') k++;
      if (toks[k] && toks[k].type === 'punct' && toks[k].value === ':') {
        k = bindingNames(toks, k + 1, names);
      } else if (key.type === 'name') {
        names.add(key.value);
      }
    } else {
      k = bindingNames(toks, k, names);
    }
    k = skipDefault(toks, k, close);
  }
  return k;
}

function skipBalanced(toks, k) { // toks[k] opens ( [ {
  let d = 0;
  for (; k < toks.length; k++) {
    const u = toks[k];
    if (u.type !== 'punct') continue;
    if ('([{'.includes(u.value)) d++;
    else if (')]}'.includes(u.value) && --d === 0) return k + 1;
  }
  return k;
}

// After a binding target: `= expression` up to a ',' or the closing bracket
// at this level.
function skipDefault(toks, k, close) {
  while (toks[k] && toks[k].type === 'nl') k++;
  if (!(toks[k] && toks[k].type === 'punct' && toks[k].value === '=')) return k;
  for (k++; k < toks.length; k++) {
    const u = toks[k];
    if (u.type !== 'punct') continue;
    if ('([{'.includes(u.value)) { k = skipBalanced(toks, k) - 1; continue; }
    if (u.value === ',' || u.value === close) return k;
  }
  return k;
}

// Rewrite a cell for the async function: top-level declarations become
// function-wide; returns the code and the names it declares.
function hoistTopLevel(code) {
  const toks = tokenize(code);
  const names = new Set();
  const edits = []; // [start, end, replacement]
  let depth = 0;
  let stmtStart = true;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.type === 'punct') {
      if ('([{'.includes(t.value)) depth++;
      else if (')]}'.includes(t.value)) depth--;
      stmtStart = depth === 0 && (t.value === ';' || t.value === '}' || t.value === '{');
      continue;
    }
    if (t.type === 'nl') { if (depth === 0) stmtStart = true; continue; }
    const atTop = depth === 0 && stmtStart;
    stmtStart = false;
    if (!atTop || t.type !== 'name') continue;
    if (t.value === 'let' || t.value === 'const' || t.value === 'var') {
      const next = toks[k + 1];
      if (!next || !(next.type === 'name' || (next.type === 'punct' && (next.value === '{' || next.value === '[')))) continue;
      edits.push([t.start, t.end, 'var']);
      // declarators: target (= init)? (, target (= init)?)*
      let j = k + 1;
      for (;;) {
        j = bindingNames(toks, j, names);
        j = skipDefault(toks, j, ';');
        if (toks[j] && toks[j].type === 'punct' && toks[j].value === ',') { j++; continue; }
        break;
      }
    } else if (t.value === 'function' || (t.value === 'async' && toks[k + 1] && toks[k + 1].value === 'function')) {
      let j = t.value === 'async' ? k + 2 : k + 1;
      const generator = toks[j] && toks[j].type === 'punct' && toks[j].value === '*';
      if (generator) j++;
      if (!toks[j] || toks[j].type !== 'name') continue;
      const name = toks[j].value;
      names.add(name);
      // A plain function in the try block is hoisted to the function's
      // scope (sloppy-mode block functions); async functions and generators
      // are not: they become `var NAME = async function NAME …;` like classes.
      if (t.value === 'function' && !generator) continue;
      while (j < toks.length && !(toks[j].type === 'punct' && toks[j].value === '{')) j++;
      const end = skipBalanced(toks, j);
      edits.push([t.start, t.start, 'var ' + name + ' = ']);
      const after = toks[end - 1] ? toks[end - 1].end : code.length;
      edits.push([after, after, ';']);
    } else if (t.value === 'class' && toks[k + 1] && toks[k + 1].type === 'name') {
      const name = toks[k + 1].value;
      let j = k + 2;
      while (j < toks.length && !(toks[j].type === 'punct' && toks[j].value === '{')) j++;
      const end = skipBalanced(toks, j);
      names.add(name);
      edits.push([t.start, t.start, 'var ' + name + ' = ']);
      const after = end - 1 < toks.length && toks[end - 1] ? toks[end - 1].end : code.length;
      edits.push([after, after, ';']);
    }
  }
  let out = code;
  edits.sort((a, b) => b[0] - a[0]);
  for (const [s, e, r] of edits) out = out.slice(0, s) + r + out.slice(e);
  return { code: out, names: [...names] };
}

// Called from the cell's `finally` with getters/setters of its variables.
const NOT_LOCAL = Symbol('not declared by the cell');
function exportNames(vars) {
  for (const [name, get, set] of vars) {
    const own = Object.getOwnPropertyDescriptor(sandbox, name);
    // A name the scan took for a declaration but the cell did not declare
    // resolves to the global: its getter would then read itself.
    if (!own || own.configurable) {
      Object.defineProperty(sandbox, name, { value: NOT_LOCAL, configurable: true, writable: true });
      let local = true;
      try { local = get() !== NOT_LOCAL; } catch (e) { local = true; }
      if (own) Object.defineProperty(sandbox, name, own); else delete sandbox[name];
      if (!local) continue;
    }
    let lexical = false;
    if (!own) {
      try { lexical = vm.runInContext('typeof ' + name + " !== 'undefined'", context); } catch (e) { lexical = true; }
    }
    try {
      if (lexical) {
        sandbox.__nsm_value = get();
        vm.runInContext(name + ' = __nsm_value', context);
      } else if (own && !own.configurable) {
        sandbox[name] = get();
      } else {
        Object.defineProperty(sandbox, name, { get, set, configurable: true, enumerable: true });
      }
    } catch (e) {
      writeAll(2, 'warning: ' + name + ' was not kept for later calls: ' + e.message + '\n');
    } finally {
      delete sandbox.__nsm_value;
    }
  }
}
Object.defineProperty(sandbox, '__nsm_export', { value: exportNames, enumerable: false });

function compile(code) {
  try {
    return { script: new vm.Script(code, { filename: '<session>' }), async: false };
  } catch (e) {
    if (!(e instanceof SyntaxError) || !/await/.test(code)) throw e;
    const h = hoistTopLevel(code);
    const vars = h.names.map((n) => '[' + JSON.stringify(n) + ', () => ' + n + ', (v) => { ' + n + ' = v; }]').join(', ');
    const body = '(async () => { try {\n' + h.code + '\n} finally { __nsm_export([' + vars + ']); } })()';
    return { script: new vm.Script(body, { filename: '<session>', lineOffset: -1 }), async: true };
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
    // The code may have closed fd 1 or 2 (fs.closeSync(1)); Node cannot
    // take a copy of a descriptor to give it back. The reply goes anyway:
    // without its marker that stream ends the call at its EOF, or after the
    // server's short grace when a job the code left still holds it.
    let lost = '';
    for (const fd of [1, 2]) {
      try {
        if (fd === 2 && lost) writeAll(2, lost);
        writeAll(fd, marker);
      } catch (e) {
        if (fd === 1) {
          lost = 'note: this session\'s stdout (fd 1) is closed (' + e.code + '): what later ' +
            'calls print to it is lost; start a new session to get it back\n';
        }
      }
    }
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
