// sdk.test.mjs — drives the built server with the official TypeScript SDK
// client (@modelcontextprotocol/sdk, pinned in package-lock.json) over
// StdioClientTransport, as an MCP host would, or with NSM_TRANSPORT=http over
// StreamableHTTPClientTransport against one `--http 127.0.0.1:0` server: the
// same checks, then what only one transport has (the `raw stdio:` tests; the
// `http:` tests: two clients' sessions, DELETE, SIGTERM). Prints TAP.
//
//   NSM_SERVER=/path/to/nix-sandbox-mcp [NSM_TRANSPORT=http] node sdk.test.mjs
//
// What the SDK checks on its own is part of the test: it validates the
// initialize result, rejects protocol versions it does not know, and (after
// listTools) validates every structuredContent of `run` against the tool's
// outputSchema with Ajv, throwing on a mismatch. The `raw stdio:` tests at
// the end use the transport or the bare pipe, for what the Client class
// hides (the offered version, the exact bytes and ids on the wire).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION, McpError, ErrorCode, ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

import { test, run } from './tap.mjs';

const server = process.env.NSM_SERVER;
if (!server) {
	console.log('not ok 1 - NSM_SERVER names the server binary');
	console.log('1..1');
	process.exit(1);
}
const ENVS = ['node', 'python', 'shell'];
const HTTP = process.env.NSM_TRANSPORT === 'http';

// ---- helpers -----------------------------------------------------------------

let stderrText = '';
// Over HTTP: one server for every client, started at the first connect.
let httpServer, httpUrl;
async function startHttpServer() {
	httpServer = spawn(server, ['--http', '127.0.0.1:0', '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
	httpServer.stderr.on('data', (d) => { stderrText += d; });
	await waitFor('the server to listen', () => /listening on (http:\S+)/.test(stderrText), 20000);
	httpUrl = new URL(stderrText.match(/listening on (http:\S+)/)[1]);
}

// A client with every message in both directions recorded (the SDK hides the
// wire; some checks need it: the negotiated version, the progress token, a
// late answer to a cancelled request).
async function connect(httpOptions) {
	let transport;
	if (HTTP) {
		if (!httpServer) await startHttpServer();
		transport = new StreamableHTTPClientTransport(httpUrl, httpOptions);
	} else {
		transport = new StdioClientTransport({
			command: server,
			args: ['--stdio', '--log-level', 'info'],
			stderr: 'pipe',
		});
		transport.stderr.on('data', (d) => { stderrText += d; });
	}
	const wire = { sent: [], received: [], protocolVersion: undefined };
	// Client.connect() hands the negotiated version to transports that take
	// it (HTTP ones: it becomes MCP-Protocol-Version); stdio has no such
	// hook, so this one records it.
	const setVersion = transport.setProtocolVersion?.bind(transport);
	transport.setProtocolVersion = (v) => { wire.protocolVersion = v; setVersion?.(v); };
	const send = transport.send.bind(transport);
	transport.send = (msg, opts) => { wire.sent.push(msg); return send(msg, opts); };
	const client = new Client({ name: 'nsm-sdk-test', version: '1.0.0' }, { capabilities: {} });
	// Protocol.connect() installs transport.onmessage; wrap it once it exists.
	const start = transport.start.bind(transport);
	transport.start = async () => {
		const inner = transport.onmessage;
		transport.onmessage = (msg, extra) => { wire.received.push({ at: Date.now(), msg }); inner(msg, extra); };
		return start();
	};
	await client.connect(transport);
	return { client, transport, wire };
}

// Processes whose command line is exactly argv (the sandbox's processes live
// in their own pid namespace but are visible in the host's /proc).
function processesWith(argv) {
	const want = argv.join('\0') + '\0';
	const found = [];
	for (const pid of readdirSync('/proc')) {
		if (!/^\d+$/.test(pid)) continue;
		try {
			if (readFileSync(`/proc/${pid}/cmdline`, 'latin1') === want) found.push(Number(pid));
		} catch { /* gone meanwhile */ }
	}
	return found;
}

async function waitFor(what, pred, ms) {
	const end = Date.now() + ms;
	for (;;) {
		if (pred()) return;
		if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
		await sleep(25);
	}
}

const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const runCode = (client, env, code, opts) => client.callTool({ name: 'run', arguments: { code, env } }, undefined, opts);

// Ordering by events, not by time: a run's code waits in `sleep <marker>`
// (longer than any timeout) until the test ends that sleep with SIGTERM.
const holdMarker = () => `3600.${process.pid % 1000}${Math.floor(Math.random() * 100000)}`;
function release(marker) {
	for (const pid of processesWith(['sleep', marker])) {
		try { process.kill(pid, 'SIGTERM'); } catch { /* gone meanwhile */ }
	}
}

// ---- tests ---------------------------------------------------------------------

let c; // { client, transport, wire } shared by the tests below

test('initialize: SDK connects; server info, negotiated version, capabilities, instructions', async () => {
	c = await connect();
	const info = c.client.getServerVersion();
	assert.equal(info.name, 'nix-sandbox-mcp');
	assert.match(info.version, /^\d+\.\d+/);
	assert.equal(c.wire.protocolVersion, LATEST_PROTOCOL_VERSION, 'negotiated version = the SDK\'s latest');
	assert.equal(LATEST_PROTOCOL_VERSION, '2025-11-25', 'the pinned SDK offers 2025-11-25');
	const init = c.wire.sent.find((m) => m.method === 'initialize');
	assert.equal(init.params.protocolVersion, '2025-11-25');
	const caps = c.client.getServerCapabilities();
	assert.ok(caps.tools, 'tools capability');
	assert.ok(caps.logging, 'logging capability');
	const ins = c.client.getInstructions();
	assert.equal(typeof ins, 'string');
	for (const e of ENVS) assert.match(ins, new RegExp(`- ${e}: `), `instructions list ${e}`);
	assert.match(ins, /`run`/);
	assert.ok(c.wire.sent.some((m) => m.method === 'notifications/initialized'), 'SDK sent notifications/initialized');
});

test('tools/list: one tool `run` with env enum, outputSchema and annotations', async () => {
	const { tools, nextCursor } = await c.client.listTools();
	assert.equal(nextCursor, undefined);
	assert.deepEqual(tools.map((t) => t.name), ['run']);
	const t = tools[0];
	assert.equal(t.inputSchema.type, 'object');
	assert.deepEqual([...t.inputSchema.required].sort(), ['code', 'env']);
	assert.deepEqual([...t.inputSchema.properties.env.enum].sort(), ENVS);
	assert.equal(t.inputSchema.properties.code.type, 'string');
	assert.equal(t.inputSchema.properties.session.type, 'string');
	assert.equal(t.outputSchema.type, 'object');
	for (const k of ['exit_code', 'stdout', 'stderr', 'timed_out', 'truncated', 'duration_ms', 'env'])
		assert.ok(t.outputSchema.required.includes(k), `outputSchema requires ${k}`);
	assert.equal(t.title, 'Run code in a sandbox');
	assert.deepEqual(t.annotations, {
		readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false,
	});
	// After listTools the SDK holds an Ajv validator for run's output.
	assert.equal(typeof c.client.getToolOutputValidator('run'), 'function', 'SDK compiled the outputSchema');
});

const perEnv = {
	shell: ['echo "hello from bash $BASH_VERSINFO"; echo to-stderr >&2', /^hello from bash \d+\n$/],
	python: ['import sys\nprint("hello from python", sys.version_info[0])\nprint("to-stderr", file=sys.stderr)', /^hello from python 3\n$/],
	node: ['console.log("hello from node", typeof process.versions.node); console.error("to-stderr")', /^hello from node string\n$/],
};
for (const env of ENVS) {
	test(`tools/call run in ${env}: structuredContent passes the SDK's outputSchema validation`, async () => {
		const [code, want] = perEnv[env];
		const r = await runCode(c.client, env, code);
		assert.equal(r.isError, false, text(r));
		const sc = r.structuredContent;
		assert.ok(sc, 'structuredContent present');
		assert.equal(sc.exit_code, 0);
		assert.match(sc.stdout, want);
		assert.equal(sc.stderr, 'to-stderr\n');
		assert.equal(sc.env, env);
		assert.equal(sc.timed_out, false);
		assert.equal(sc.truncated, false);
		assert.ok(Number.isInteger(sc.duration_ms) && sc.duration_ms >= 0);
		assert.ok(text(r).includes(sc.stdout), 'text content carries stdout');
		assert.match(text(r), /--- stderr ---\nto-stderr\n/);
		assert.match(text(r), /\[exit code 0; \d+ ms\]$/);
	});
}

test('tools/call run: non-zero exit is a validated result with isError', async () => {
	const r = await runCode(c.client, 'shell', 'echo partial; exit 3');
	assert.equal(r.isError, true);
	assert.equal(r.structuredContent.exit_code, 3);
	assert.equal(r.structuredContent.stdout, 'partial\n');
	assert.match(text(r), /\[exit code 3; /);
});

test('tools/call run: unknown env is a tool result with isError and a helpful text', async () => {
	const r = await runCode(c.client, 'cobol', 'DISPLAY "hi"');
	assert.equal(r.isError, true);
	assert.equal(r.structuredContent, undefined);
	assert.match(text(r), /Unknown environment "cobol"\. Available: node, python, shell\./);
});

test('tools/call run: missing code and an unknown argument are tool errors', async () => {
	let r = await c.client.callTool({ name: 'run', arguments: { env: 'shell' } });
	assert.equal(r.isError, true);
	assert.match(text(r), /`code` is required/);
	r = await c.client.callTool({ name: 'run', arguments: { env: 'shell', code: 'true', timeout: 5 } });
	assert.equal(r.isError, true);
	assert.match(text(r), /Unknown argument `timeout`/);
});

test('tools/call of an unknown tool: SDK rejects with McpError -32602 (InvalidParams); server goes on', async () => {
	let err;
	try {
		await c.client.callTool({ name: 'no_such_tool', arguments: {} });
	} catch (e) {
		err = e;
	}
	assert.ok(err instanceof McpError, `rejected with McpError (got ${err})`);
	assert.equal(err.code, ErrorCode.InvalidParams);
	assert.match(err.message, /unknown tool/);
	await c.client.ping();
});

test('logging/setLevel through the SDK', async () => {
	assert.deepEqual(await c.client.setLoggingLevel('debug'), {});
	assert.deepEqual(await c.client.setLoggingLevel('warning'), {});
});

test('a client that set level debug hears about its run (start, end with exit code) before the answer', async () => {
	// Over HTTP the SDK takes JSON or SSE: the server must answer a tool
	// call on a stream, or these notifications have nowhere to go.
	await c.client.setLoggingLevel('debug');
	const from = c.wire.received.length;
	const marker = `log-${process.pid}-${Date.now()}`;
	const r = await runCode(c.client, 'shell', `echo ${marker}; exit 3`);
	await c.client.setLoggingLevel('warning');
	const after = c.wire.received.slice(from).map((e) => e.msg);
	const answer = after.findIndex((m) => m.result?.structuredContent?.stdout === `${marker}\n`);
	assert.ok(answer >= 0, 'the answer arrived');
	assert.equal(r.structuredContent.exit_code, 3);
	const logs = after.slice(0, answer).filter((m) => m.method === 'notifications/message').map((m) => m.params.data);
	assert.ok(logs.some((d) => /run in shell/.test(d) && /exit 3/.test(d)),
		`a notifications/message names the run's end and exit code before the answer; got ${JSON.stringify(logs)}`);
});

test('ping is answered while a run is in flight', async () => {
	// The run ends only when the test ends its sleep, after the ping's
	// answer: it is in flight when ping is answered by the order of events.
	// A server that held ping behind the run would never answer it (the run
	// waits for the test): the 10 s bound only turns that into a failure,
	// far above any ping time.
	const marker = holdMarker();
	let doneAt = 0;
	const call = runCode(c.client, 'shell', `sleep ${marker}; echo done`).then((r) => { doneAt = Date.now(); return r; });
	await waitFor(`sleep ${marker} to start`, () => processesWith(['sleep', marker]).length > 0, 10000);
	const p0 = Date.now();
	const pinged = await Promise.race([c.client.ping().then(() => true), sleep(10000).then(() => false)]);
	const pingMs = Date.now() - p0;
	const running = processesWith(['sleep', marker]).length > 0;
	release(marker);
	assert.ok(pinged, `ping answered while the run waits (no answer after ${pingMs} ms)`);
	assert.ok(running && doneAt === 0, 'the run was still going when ping answered');
	const released = Date.now();
	const r = await call;
	assert.equal(r.structuredContent.stdout, 'done\n');
	assert.equal(r.structuredContent.timed_out, false);
	assert.ok(doneAt >= released, 'the run ended after it was released');
}, { timeout: 30000 });

test('three concurrent runs (one per env) each get their own answer', async () => {
	const rs = await Promise.all(ENVS.map((env) => runCode(c.client, env,
		env === 'shell' ? 'sleep 0.5; echo shell' : env === 'python' ? 'print("python")' : 'console.log("node")')));
	rs.forEach((r, i) => {
		assert.equal(r.structuredContent.env, ENVS[i]);
		assert.equal(r.structuredContent.stdout, `${ENVS[i]}\n`);
	});
});

test('cancel via AbortSignal: call rejects at once, sandbox killed, no late answer, server goes on', async () => {
	const marker = `41.${process.pid % 1000}${Math.floor(Math.random() * 1000)}`;
	const ac = new AbortController();
	const call = runCode(c.client, 'shell', `sleep ${marker}; echo not-reached`, { signal: ac.signal });
	call.catch(() => {});
	await waitFor(`sleep ${marker} to start`, () => processesWith(['sleep', marker]).length > 0, 5000);
	const req = c.wire.sent.filter((m) => m.method === 'tools/call').at(-1);
	const t0 = Date.now();
	ac.abort();
	let err;
	try {
		await call;
	} catch (e) {
		err = e;
	}
	const ms = Date.now() - t0;
	assert.ok(err, 'the aborted call rejected');
	// Not on an answer: the run would answer after its 41 s sleep (or its
	// 30 s timeout), the SDK's request timeout is 60 s.
	assert.ok(ms < 10000, `rejected after ${ms} ms`);
	const note = c.wire.sent.find((m) => m.method === 'notifications/cancelled' && m.params.requestId === req.id);
	assert.ok(note, 'SDK sent notifications/cancelled with the request id');
	await waitFor(`sleep ${marker} to be killed`, () => processesWith(['sleep', marker]).length === 0, 10000);
	// A late answer would go out when the server handles the killed
	// sandbox's end, which it does before it can answer a whole new run.
	const r = await runCode(c.client, 'shell', 'echo still here');
	assert.equal(r.structuredContent.stdout, 'still here\n');
	await c.client.ping();
	const late = c.wire.received.find((m) => m.msg.id === req.id);
	assert.equal(late, undefined, `server answered the cancelled request: ${JSON.stringify(late?.msg)}`);
}, { timeout: 30000 });

test('progress notifications for a run with a progressToken', async () => {
	// The run ends once the test has seen two notifications (it ends the
	// run's sleep): without progress it would end at its 30 s timeout.
	const seen = [];
	const marker = holdMarker();
	const r = await runCode(c.client, 'shell', `for i in 1 2 3 4; do echo $i; done; sleep ${marker}`,
		{ onprogress: (p) => { seen.push(p); if (seen.length === 2) release(marker); }, resetTimeoutOnProgress: true });
	const req = c.wire.sent.filter((m) => m.method === 'tools/call').at(-1);
	assert.equal(typeof req.params._meta.progressToken, 'number', 'SDK sent a progressToken');
	assert.equal(r.structuredContent.stdout, '1\n2\n3\n4\n');
	assert.equal(r.structuredContent.timed_out, false, 'released after the second notification, not ended by the timeout');
	assert.ok(seen.length >= 2, `expected two notifications/progress before the result, got ${seen.length}`);
	for (let i = 1; i < seen.length; i++) assert.ok(seen[i].progress > seen[i - 1].progress, 'progress increases');
}, { timeout: 15000 });

if (!HTTP) test('close: the server exits by itself (status 0) when stdin closes', async () => {
	const proc = c.transport._process; // private, but the only handle on the child's status
	const t0 = Date.now();
	await c.client.close();
	const ms = Date.now() - t0;
	// The SDK sends SIGTERM after 2 s and the server stops on it with status
	// 0 too: its own log line says whether a signal stopped it ('close'
	// fired, so all of its stderr has arrived).
	assert.equal(proc.signalCode, null, `killed by ${proc.signalCode} (the SDK sends SIGKILL after 4 s)`);
	assert.equal(proc.exitCode, 0);
	assert.doesNotMatch(stderrText, /signal \d+: stopping/, `stopped by the SDK's signal, not by itself (${ms} ms)`);
	c = undefined;
});

// Version negotiation below the Client class: raw initialize requests.
async function rawInitialize(version) {
	const t = new StdioClientTransport({ command: server, args: [], stderr: 'pipe' });
	const answer = new Promise((resolve, reject) => {
		t.onmessage = resolve;
		t.onerror = reject;
	});
	await t.start();
	await t.send({ jsonrpc: '2.0', id: 'init-1', method: 'initialize',
		params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
	const msg = await answer;
	await t.close();
	return msg;
}
for (const [offered, expected] of [['2024-11-05', '2024-11-05'], ['2025-03-26', '2025-03-26'],
	['2025-06-18', '2025-06-18'], ['2099-01-01', '2025-11-25']]) {
	if (!HTTP) test(`raw stdio: version negotiation: client offers ${offered}, server answers ${expected}`, async () => {
		const msg = await rawInitialize(offered);
		assert.equal(msg.id, 'init-1');
		assert.equal(msg.result.protocolVersion, expected);
	});
}

// Below the SDK: what any client's JSON parser must accept. Node decodes
// stdout leniently (invalid UTF-8 becomes U+FFFD without a word), so these
// read the raw bytes.
function rawSession(lines) {
	return new Promise((resolve, reject) => {
		const p = spawn(server, [], { stdio: ['pipe', 'pipe', 'ignore'] });
		const chunks = [];
		p.stdout.on('data', (d) => chunks.push(d));
		p.on('error', reject);
		p.on('close', () => resolve(Buffer.concat(chunks)));
		p.stdin.end(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)) + '\n').join(''));
	});
}
const INIT = { jsonrpc: '2.0', id: 0, method: 'initialize',
	params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } };

if (!HTTP) test('raw stdio: replies stay valid UTF-8 when the server quotes a long non-ASCII name', async () => {
	// The server cuts quoted client strings at a byte count (%.100s, %.64s)
	// and so can split a multi-byte character: invalid UTF-8 on the wire,
	// which strict decoders reject (the Python SDK's stdio client decodes
	// with encoding_error_handler="strict" by default).
	const out = await rawSession([INIT,
		{ jsonrpc: '2.0', id: 1, method: `${'a'.repeat(99)}é` },
		{ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'run', arguments: { code: 'x', env: `${'b'.repeat(63)}é` } } },
		{ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'run', arguments: { code: 'x', env: 'shell', [`${'c'.repeat(63)}é`]: 1 } } }]);
	const bad = [];
	for (const line of out.toString('latin1').split('\n').filter(Boolean)) {
		try {
			new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(line, 'latin1'));
		} catch {
			bad.push(line.slice(0, 60) + '…');
		}
	}
	assert.deepEqual(bad, [], `${bad.length} of 4 replies are not valid UTF-8`);
});

if (!HTTP) test('raw stdio: a request id of Number.MAX_SAFE_INTEGER comes back unchanged', async () => {
	// A JavaScript client may number requests up to 2**53 - 1; the server
	// prints numeric ids with 15 significant digits when that is "close
	// enough", so the client cannot match the response.
	const ids = [Number.MAX_SAFE_INTEGER, 8000000000000001, 4503599627370497];
	const out = await rawSession([INIT, ...ids.map((id) => ({ jsonrpc: '2.0', id, method: 'ping' }))]);
	const got = out.toString('utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l).id);
	assert.deepEqual(got, ids);
});

// ---- only over HTTP ------------------------------------------------------------

if (HTTP) {
	test('http: two clients both using session "a" do not share state', async () => {
		const a = await connect(), b = await connect();
		assert.notEqual(a.transport.sessionId, b.transport.sessionId);
		const call = (x, code) => x.client.callTool({ name: 'run', arguments: { code, env: 'python', session: 'a' } });
		await call(a, 'secret = "only-a"');
		const rb = await call(b, 'print(globals().get("secret", "absent"))');
		const ra = await call(a, 'print(secret)');
		assert.equal(rb.structuredContent.stdout, 'absent\n');
		assert.equal(ra.structuredContent.stdout, 'only-a\n');
		await a.client.close();
		await b.client.close();
	});

	test('http: the SDK\'s stream on GET carries resources/list_changed when a call writes /workspace/out', async () => {
		const a = await connect();
		let heard = 0;
		a.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => { heard++; });
		await a.client.callTool({ name: 'run', arguments: { code: 'echo x > /workspace/out/n.txt', env: 'shell', session: 'lc' } });
		await waitFor('notifications/resources/list_changed', () => heard > 0, 5000);
		const list = await a.client.listResources();
		assert.ok(list.resources.some((r) => r.uri.endsWith('/out/n.txt')), JSON.stringify(list));
		await a.client.close();
	});

	test('http: a call\'s stream cut mid-call is resumed by the SDK (GET, Last-Event-ID) and answered', async () => {
		// The network drops the call's response after its first bytes (the
		// priming event): the SDK comes back with Last-Event-ID.
		const seen = [];
		let cut = 0;
		const cutting = async (url, init) => {
			const res = await fetch(url, init);
			const lastId = new Headers(init?.headers).get('last-event-id');
			seen.push(`${init?.method} ${lastId ?? ''}`);
			const isCall = init?.method === 'POST' && String(init.body).includes('"tools/call"');
			if (!isCall || cut++ > 0 || !res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
			const reader = res.body.getReader();
			let chunks = 0;
			const body = new ReadableStream({
				async pull(ctrl) {
					if (chunks++ >= 1) {
						await reader.cancel();
						ctrl.error(new Error('connection lost (test)'));
						return;
					}
					const { value, done } = await reader.read();
					if (done) ctrl.close(); else ctrl.enqueue(value);
				},
			});
			return new Response(body, { status: res.status, headers: res.headers });
		};
		const a = await connect({ fetch: cutting });
		const r = await a.client.callTool({ name: 'run', arguments: { code: 'sleep 2; echo survived', env: 'shell' } },
			undefined, { onprogress: () => {}, timeout: 20000 });
		assert.equal(cut, 1, 'the call\'s stream was cut');
		assert.ok(seen.some((x) => /^GET \d+-\d+$/.test(x)), `a GET with Last-Event-ID was sent: ${seen.join(', ')}`);
		assert.equal(r.structuredContent.stdout, 'survived\n');
		assert.equal(r.structuredContent.exit_code, 0);
		await a.client.close();
	}, { timeout: 30000 });

	test('http: terminateSession (DELETE) kills the session\'s sandboxes; its id is then 404', async () => {
		const a = await connect();
		const marker = holdMarker();
		const call = a.client.callTool({ name: 'run', arguments: { code: `sleep ${marker}`, env: 'shell', session: 's' } });
		call.catch(() => {});
		await waitFor(`sleep ${marker} to start`, () => processesWith(['sleep', marker]).length > 0, 10000);
		const sid = a.transport.sessionId;
		await a.transport.terminateSession();
		await waitFor(`sleep ${marker} to be killed`, () => processesWith(['sleep', marker]).length === 0, 5000);
		const r = await fetch(httpUrl, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
			headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid } });
		assert.equal(r.status, 404);
		await a.client.close();
	});

	test('http: SIGTERM: the server exits 0 with a run in flight, which is answered', async () => {
		const a = await connect();
		const marker = holdMarker();
		const call = a.client.callTool({ name: 'run', arguments: { code: `sleep ${marker}`, env: 'shell' } })
			.then(() => 'answered', (e) => `rejected: ${e.message}`);
		await waitFor(`sleep ${marker} to start`, () => processesWith(['sleep', marker]).length > 0, 10000);
		const exited = new Promise((resolve) => httpServer.on('exit', (code, sig) => resolve({ code, sig })));
		httpServer.kill('SIGTERM');
		const { code, sig } = await exited;
		assert.equal(sig, null);
		assert.equal(code, 0);
		const how = await Promise.race([call, sleep(5000).then(() => 'hung')]);
		assert.notEqual(how, 'hung', 'the call ended when the server stopped');
		assert.equal(processesWith(['sleep', marker]).length, 0, 'its sandbox is gone');
		httpServer = undefined;
		await a.client.close().catch(() => {});
	}, { timeout: 30000 });
}

await run({
	after: async (failed) => {
		if (c) await c.client.close();
		if (httpServer) httpServer.kill('SIGTERM');
		if (failed && stderrText) {
			console.log('# server stderr (last lines):');
			for (const l of stderrText.trim().split('\n').slice(-10)) console.log(`#   ${l}`);
		}
	},
});
