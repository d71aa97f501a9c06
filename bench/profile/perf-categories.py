# Groups `perf script` samples of the server (see perf-ingest.sh) by where they were spent: SQLite (named by our
# function that called it), fdatasync, our code, Fastify/Node/libuv, GC, JSON parse. Prints µs per acknowledged event.
# usage: perf script -i perf.data | python3 perf-categories.py [rows] [acknowledged events]
import sys, re, collections
samples = collections.Counter(); total = 0
def classify(frames):
    # frames: list of (sym, dso) leaf first
    kernel = frames and frames[0][1].startswith('[kernel')
    has_sqlite = any('better_sqlite3' in d for s, d in frames)
    ours = None; lib = None; nodeint = None
    for s, d in frames:
        if s.startswith('JS:'):
            m = re.match(r'JS:[*^~]?(\S*) (\S+?):\d+', s)
            if not m: continue
            fn, path = m.group(1), m.group(2)
            if 'node_modules/' not in path and '/dist/' in path and ours is None: ours = f"{fn} {path.split('/dist/')[1]}"
            elif 'node_modules/' in path and lib is None: lib = path.split('node_modules/')[1].split('/')[0] + ('/' + path.split('node_modules/')[1].split('/')[1] if path.split('node_modules/')[1].startswith('@') else '')
            elif path.startswith('node:') and nodeint is None: nodeint = path
    syms = ' '.join(s for s, d in frames)
    if 'fdatasync' in syms or 'ext4_sync_file' in syms or 'jbd2' in syms: base = 'kernel: fdatasync'
    elif has_sqlite: base = 'sqlite (' + (ours or lib or '?') + ')'
    elif any(x in syms for x in ('Scavenger', 'MarkCompact', 'Heap::', 'ConcurrentMarking', 'Sweeper')) and not ours: base = 'GC'
    elif ours: base = 'ours: ' + ours
    elif lib: base = 'lib: ' + lib
    elif nodeint: base = 'node: ' + nodeint
    elif 'uv__' in syms or 'epoll' in syms: base = 'libuv/epoll'
    else: base = 'other native: ' + (frames[0][0][:40] if frames else '?')
    if kernel and not base.startswith('kernel'): base += ' [k]'
    return base
frames = []
for line in sys.stdin:
    line = line.rstrip('\n')
    if not line.strip():
        if frames: samples[classify(frames)] += 1; total += 1
        frames = []; continue
    if line.startswith('\t') or line.startswith(' '):
        parts = line.strip().split(' ', 1)
        if len(parts) == 2:
            rest = parts[1]; m = re.match(r'(.*) \((.*)\)$', rest)
            if m: frames.append((re.sub(r'\+0x[0-9a-f]+$', '', m.group(1)), m.group(2)))
if frames: samples[classify(frames)] += 1; total += 1
reqs = int(sys.argv[2]) if len(sys.argv) > 2 else 0
per = (lambda v: f'{v*500.25/reqs:6.1f} µs') if reqs else (lambda v: '')
print('samples', total, 'total', per(total))
groups = collections.Counter()
for k, v in samples.items():
    g = 'postgres client (pg)' if k.startswith(('lib: pg', 'lib: pg-')) else 'sqlite' if k.startswith('sqlite') or k.startswith('kernel: fdatasync') else 'ours' if k.startswith('ours') else 'fastify/node/libuv' if k.startswith(('lib: fastify', 'node:', 'libuv', 'lib: find-my-way', 'lib: fast-querystring', 'lib: light')) else 'GC/malloc' if k.startswith(('GC', 'other native: _int', 'other native: malloc', 'other native: cfree', 'other native: unlink')) else 'json parse' if 'secure-json' in k else 'other'
    groups[g] += v
print('  groups:', ', '.join(f'{g} {per(v)}' for g, v in groups.most_common()))
for k, v in samples.most_common(int(sys.argv[1]) if len(sys.argv) > 1 else 50): print(f'{100*v/total:5.1f}% {per(v)}  {k}')
