// inspector.test.mjs — drives the built server with the MCP Inspector in CLI
// mode (`npx @modelcontextprotocol/inspector --cli <server> --method …`,
// version pinned in package-lock.json) and checks its JSON output. Each call
// is a fresh Inspector process: it spawns the server, initializes, sends one
// request, prints the result as JSON on stdout (exit 0) or the error on
// stderr (exit 1). Prints TAP (see tap.mjs).
//
//   NSM_SERVER=/path/to/nix-sandbox-mcp node inspector.test.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { test, run } from './tap.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const server = process.env.NSM_SERVER;
if (!server) {
	console.log('not ok 1 - NSM_SERVER names the server binary');
	console.log('1..1');
	process.exit(1);
}
// The Inspector keeps state in ~/.mcp-inspector: give it a HOME of its own.
const home = mkdtempSync(join(tmpdir(), 'nsm-inspector-home-'));

function inspector(...args) {
	return new Promise((resolve, reject) => {
		const p = spawn('npx', ['--no-install', '@modelcontextprotocol/inspector', '--cli', server, ...args], {
			cwd: here,
			env: { ...process.env, HOME: home, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '', err = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { err += d; });
		const timer = setTimeout(() => p.kill('SIGKILL'), 30000);
		p.on('error', reject);
		p.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, out, err });
		});
	});
}

// A successful call: exit 0 and one JSON document on stdout.
async function inspectorJson(...args) {
	const r = await inspector(...args);
	assert.equal(r.code, 0, `inspector exited ${r.code ?? r.signal}; stderr: ${r.err.trim()}`);
	try {
		return JSON.parse(r.out);
	} catch (e) {
		throw new Error(`inspector printed no JSON: ${e.message}\n${r.out.slice(0, 500)}`);
	}
}

const call = (code, env) => inspectorJson('--method', 'tools/call', '--tool-name', 'run',
	'--tool-arg', `code=${code}`, `env=${env}`);

test('--method tools/list: the run tool with its schemas', async () => {
	const j = await inspectorJson('--method', 'tools/list');
	assert.deepEqual(j.tools.map((t) => t.name), ['run']);
	const t = j.tools[0];
	assert.deepEqual([...t.inputSchema.properties.env.enum].sort(), ['node', 'python', 'shell']);
	assert.deepEqual([...t.inputSchema.required].sort(), ['code', 'env']);
	assert.equal(t.outputSchema.type, 'object');
	assert.equal(t.annotations.readOnlyHint, false);
});

test('tools/call run in shell: structuredContent and text', async () => {
	const j = await call('echo hello; echo oops >&2', 'shell');
	assert.equal(j.isError, false);
	assert.deepEqual({ ...j.structuredContent, duration_ms: 0 }, {
		exit_code: 0, stdout: 'hello\n', stderr: 'oops\n', timed_out: false, truncated: false,
		duration_ms: 0, env: 'shell',
	});
	assert.match(j.content[0].text, /^hello\n--- stderr ---\noops\n\[exit code 0; \d+ ms\]$/);
});

test('tools/call run in python and node', async () => {
	const [py, js] = await Promise.all([call('print(6 * 7)', 'python'), call('console.log(6 * 7)', 'node')]);
	assert.equal(py.structuredContent.stdout, '42\n');
	assert.equal(py.structuredContent.env, 'python');
	assert.equal(js.structuredContent.stdout, '42\n');
	assert.equal(js.structuredContent.env, 'node');
});

test('tools/call: quotes, "=" and non-ASCII in code survive the round trip', async () => {
	const j = await call(`printf '%s\\n' "a=b \\"q\\" héllo ✓ 日本"`, 'shell');
	assert.equal(j.structuredContent.stdout, 'a=b "q" héllo ✓ 日本\n');
});

test('tools/call: non-zero exit is isError with the exit code', async () => {
	const j = await call('echo partial; exit 3', 'shell');
	assert.equal(j.isError, true);
	assert.equal(j.structuredContent.exit_code, 3);
	assert.match(j.content[0].text, /\[exit code 3; /);
});

test('tools/call: unknown env is a tool result with isError', async () => {
	const j = await call('true', 'cobol');
	assert.equal(j.isError, true);
	assert.equal(j.structuredContent, undefined);
	assert.match(j.content[0].text, /Unknown environment "cobol"/);
});

test('tools/call of an unknown tool: exit 1, error -32602 on stderr', async () => {
	const r = await inspector('--method', 'tools/call', '--tool-name', 'no_such_tool', '--tool-arg', 'x=1');
	assert.equal(r.code, 1);
	assert.equal(r.out.trim(), '');
	assert.match(r.err, /Failed to call tool no_such_tool: MCP error -32602: tools\/call: unknown tool/);
});

test('--method logging/setLevel', async () => {
	const j = await inspectorJson('--method', 'logging/setLevel', '--log-level', 'debug');
	assert.deepEqual(j, {});
});

test('--method prompts/list: method not found is reported, not a hang', async () => {
	// The server declares no prompts capability; the Inspector must get a
	// JSON-RPC error back (not wait forever).
	const r = await inspector('--method', 'prompts/list');
	assert.equal(r.code, 1);
	assert.match(r.err, /MCP error -32601: Method not found: prompts\/list/);
});

await run({
	after: () => rmSync(home, { recursive: true, force: true }),
});
