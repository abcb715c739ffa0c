// tap.mjs — a minimal TAP producer shared by the client tests.
//
// Each test is an async function run one after another under its own
// deadline. Output: `ok N - name` / `not ok N - name`, diagnostics as
// `#   …` lines, and `1..N` at the end. A test marked { todo: 'why' } prints
// the TAP directive `# TODO why` and does not count as a failure (TAP 13);
// when it unexpectedly passes it says so, so the marker can be removed.

const tests = [];

export function test(name, fn, opts = {}) {
	tests.push({ name, fn, timeout: opts.timeout ?? 20000, todo: opts.todo });
}

function diag(text) {
	for (const line of String(text).split('\n')) console.log(`#   ${line}`);
}

function withDeadline(p, ms, name) {
	let timer;
	const deadline = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${name}: no result within ${ms} ms`)), ms);
	});
	return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

// Runs every test; `after(failed)` (cleanup) runs even when a test threw.
// Returns the number of counted failures and sets process.exitCode.
export async function run({ after } = {}) {
	let n = 0, failed = 0;
	for (const t of tests) {
		n++;
		const todo = t.todo ? ` # TODO ${t.todo}` : '';
		try {
			await withDeadline(Promise.resolve().then(t.fn), t.timeout, t.name);
			console.log(`ok ${n} - ${t.name}${todo}`);
			if (t.todo) diag('this TODO test passed: remove its TODO marker');
		} catch (err) {
			console.log(`not ok ${n} - ${t.name}${todo}`);
			diag(err && err.stack ? err.stack.split('\n').slice(0, 6).join('\n') : String(err));
			if (!t.todo) failed++;
		}
	}
	if (after) {
		try {
			await after(failed);
		} catch (err) {
			n++;
			failed++;
			console.log(`not ok ${n} - cleanup`);
			diag(String(err));
		}
	}
	console.log(`1..${n}`);
	process.exitCode = failed ? 1 : 0;
	return failed;
}
