"""Ping latency while a burst of one-shot runs starts (issue #10, item 8).

Sends N run requests (shell, `sleep 1`) in one write, then a ping every
5 ms until every run has answered, and prints how long the pings waited:
the event loop spawning sandboxes must not hold a ping up for long.
Usage: ping-burst.py SERVER [N]"""
import json
import sys
import time

from benchlib import Server, pct

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 64
rounds = 3
lat = []
worst_round = []
for rnd in range(rounds):
    s = Server(binary, ["--no-project"])
    s.initialize()
    burst = "".join(json.dumps({"jsonrpc": "2.0", "id": "run%d" % i, "method": "tools/call",
                                "params": {"name": "run", "arguments": {"code": "sleep 1", "env": "shell"}}}) + "\n"
                    for i in range(n))
    s.send_raw(burst)
    sent = {}
    answered = set()
    k = 0
    t_end = time.monotonic() + 60
    mine = []
    while len([a for a in answered if str(a).startswith("run")]) < n and time.monotonic() < t_end:
        k += 1
        pid = "p%d" % k
        sent[pid] = time.monotonic()
        s.send({"jsonrpc": "2.0", "id": pid, "method": "ping"})
        deadline = time.monotonic() + 0.005
        while True:
            s._fill(max(0.0, deadline - time.monotonic()))
            while s.pending:
                m = s.pending.pop(0)
                i = m.get("id")
                answered.add(i)
                if isinstance(i, str) and i.startswith("p") and i in sent:
                    mine.append((time.monotonic() - sent.pop(i)) * 1000)
            if time.monotonic() >= deadline:
                break
    s.close()
    lat += mine
    worst_round.append(max(mine) if mine else float("nan"))
print("ping during a burst of %d one-shot runs (%d rounds, %d pings): p50 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (n, rounds, len(lat), pct(lat, 0.5), pct(lat, 0.99), max(lat)))
print("worst ping per round: " + ", ".join("%.1f ms" % w for w in worst_round))
