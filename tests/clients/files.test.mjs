// files.test.mjs — files in and out of `run`, and plots, through the
// official TypeScript SDK client over stdio, as an MCP host would see them.
// The SDK validates each result (CallToolResultSchema: image, resource,
// resource_link content) and its structuredContent against the outputSchema,
// and ReadResourceResultSchema for resources/read.
//
//   NSM_PLOT_SERVER=/path/to/nix-sandbox-mcp node files.test.mjs
// (a server with the python-plot environment: tests/integration/server.nix)
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { test, run } from './tap.mjs';

const server = process.env.NSM_PLOT_SERVER;
if (!server) {
	console.log('not ok 1 - NSM_PLOT_SERVER names a server with the python-plot environment');
	console.log('1..1');
	process.exit(1);
}

let client;
const call = (args) => client.callTool({ name: 'run', arguments: args }, undefined, { timeout: 60000 });

// A PNG's chunks, each CRC-free parsed: returns { width, height, pixels } of
// an 8-bit RGBA or RGB image, checking the structure a viewer would.
function parsePng(buf) {
	assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
	let off = 8, ihdr, idat = [], end = false;
	while (off < buf.length) {
		const len = buf.readUInt32BE(off), type = buf.toString('latin1', off + 4, off + 8);
		const data = buf.subarray(off + 8, off + 8 + len);
		if (type === 'IHDR') ihdr = data;
		if (type === 'IDAT') idat.push(data);
		if (type === 'IEND') end = true;
		off += 12 + len;
	}
	assert.ok(ihdr && idat.length && end, 'IHDR, IDAT and IEND chunks');
	const width = ihdr.readUInt32BE(0), height = ihdr.readUInt32BE(4);
	const raw = inflateSync(Buffer.concat(idat)); // throws on a broken stream
	const channels = { 2: 3, 6: 4 }[ihdr[9]];
	assert.ok(channels && ihdr[8] === 8, `8-bit RGB(A) (depth ${ihdr[8]}, color type ${ihdr[9]})`);
	assert.equal(raw.length, height * (1 + width * channels), 'the pixel data fills the image');
	return { width, height, raw, channels };
}

test('connect with the SDK; python-plot is an env', async () => {
	const transport = new StdioClientTransport({ command: server, args: ['--stdio', '--no-project'], stderr: 'pipe' });
	client = new Client({ name: 'nsm-files-test', version: '0' });
	await client.connect(transport);
	const { tools } = await client.listTools(); // the SDK then validates structuredContent
	assert.ok(tools[0].inputSchema.properties.files, 'the run tool takes files');
	assert.ok(tools[0].inputSchema.properties.env.enum.includes('python-plot'));
	assert.ok(client.getServerCapabilities().resources, 'resources capability');
});

test('plt.show() in a one-shot run: the SDK receives a valid PNG as image content', async () => {
	const r = await call({
		env: 'python-plot',
		code: 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title("a line")\nplt.show()\nprint("shown")',
	});
	assert.equal(r.isError, false, JSON.stringify(r.content).slice(0, 500));
	const images = r.content.filter((c) => c.type === 'image');
	assert.equal(images.length, 1, 'one image');
	assert.equal(images[0].mimeType, 'image/png');
	const png = parsePng(Buffer.from(images[0].data, 'base64'));
	assert.deepEqual([png.width, png.height], [640, 480], 'matplotlib\'s default 6.4 x 4.8 in at 100 dpi');
	// Not blank: a line and a title were drawn (some pixel is not white).
	let ink = 0;
	for (let y = 0; y < png.height; y += 4)
		for (let x = 0; x < png.width; x += 4) {
			const i = y * (1 + png.width * png.channels) + 1 + x * png.channels;
			if (png.raw[i] < 200 || png.raw[i + 1] < 200 || png.raw[i + 2] < 200) ink++;
		}
	assert.ok(ink > 50, `the figure has ink (${ink} sampled dark pixels)`);
	const f = r.structuredContent.files.find((x) => x.path === 'figure-1.png');
	assert.equal(f.returned_as, 'image');
	assert.equal(f.mime_type, 'image/png');
});

test('files in (text and base64) and a CSV out, in a session; resources/read of a kept file', async () => {
	const bytes = Buffer.from(Array.from({ length: 200000 }, (_, i) => (i * 7) & 0xff));
	let r = await call({
		env: 'python-plot', session: 'sdk-files',
		code: 'import hashlib\nd = open("in/data.bin", "rb").read()\nprint(open("in/n.txt").read().strip(), hashlib.sha256(d).hexdigest())\n'
			+ 'open("out/t.csv", "w").write("x,y\\n1,2\\n")\nopen("out/big.bin", "wb").write(d)',
		files: [{ path: 'in/n.txt', content: 'hello\n' },
			{ path: 'in/data.bin', content: bytes.toString('base64'), encoding: 'base64' }],
	});
	assert.equal(r.isError, false, JSON.stringify(r.content).slice(0, 500));
	const { createHash } = await import('node:crypto');
	assert.equal(r.structuredContent.stdout.trim(), `hello ${createHash('sha256').update(bytes).digest('hex')}`);
	const csv = r.content.find((c) => c.type === 'resource' && c.resource.uri.endsWith('/t.csv'));
	assert.equal(csv.resource.text, 'x,y\n1,2\n');
	assert.equal(csv.resource.mimeType, 'text/csv');
	const link = r.content.find((c) => c.type === 'resource_link');
	assert.equal(link.name, 'big.bin');
	assert.equal(link.size, 200000);
	const read = await client.readResource({ uri: link.uri });
	assert.ok(Buffer.from(read.contents[0].blob, 'base64').equals(bytes), 'resources/read gives the bytes back');
	const listed = await client.listResources();
	assert.ok(listed.resources.some((x) => x.uri === link.uri), 'resources/list has it');
	r = await call({ env: 'python-plot', session: 'sdk-files', code: 'print(1)' });
	assert.equal(r.structuredContent.files, undefined, 'nothing changed, nothing returned');
});

test('a path that leaves /workspace is a tool error naming it', async () => {
	const r = await call({ env: 'python-plot', code: 'print(1)', files: [{ path: '../etc/x', content: '' }] });
	assert.equal(r.isError, true);
	assert.match(r.content[0].text, /files\[0\]\.path "\.\.\/etc\/x"/);
});

await run({ after: async () => { if (client) await client.close(); } });
