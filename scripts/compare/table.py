"""Medians of scripts/compare-llama-cpp.sh's measurements as a table. Input lines (stdin):
  MODEL TYPE THREADS WHAT SYSTEM key=value ...   (WHAT: prefill, decode, decode8, decode32, bandwidth)
"""
import collections
import statistics
import sys

runs = collections.defaultdict(list)
for line in sys.stdin:
    fields = line.split()
    if len(fields) < 6:
        continue
    key = tuple(fields[:5])
    runs[key].append({k: float(v) for k, v in (f.split("=") for f in fields[5:])})


def median(key, field="tok_s"):
    values = [r[field] for r in runs.get(key, []) if field in r]
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


rows = sorted({k[:3] for k in runs if k[3] != "bandwidth"}, key=lambda k: (k[0], k[1], int(k[2])))
header = ["model", "type", "thr", "prefill llama", "prefill cace", "ratio", "decode llama", "decode cace",
          "ratio", "cace/bound", "cace b8", "cace b32"]
table = [header]
for model, type_name, threads in rows:
    base = (model, type_name, threads)
    pl, pc = median(base + ("prefill", "llama")), median(base + ("prefill", "cace"))
    dl, dc = median(base + ("decode", "llama")), median(base + ("decode", "cace"))
    bound = median(base + ("decode", "cace"), "bound_tok_s")
    table.append([model, type_name, threads, fmt(pl), fmt(pc), fmt(ratio(pc, pl), 2), fmt(dl), fmt(dc),
                  fmt(ratio(dc, dl), 2), fmt(ratio(dc, bound), 2), fmt(median(base + ("decode8", "cace"))),
                  fmt(median(base + ("decode32", "cace")))])
widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
for r in table:
    print("  ".join(str(c).rjust(w) for c, w in zip(r, widths)))
for key in sorted(k for k in runs if k[3] == "bandwidth"):
    print(f"read bandwidth, {key[2]} thread(s), best of 1-8 streams each: {fmt(median(key, 'GB_s'), 2)} GB/s "
          f"(median of {len(runs[key])})")
print(f"rounds: {max((len(v) for v in runs.values()), default=0)} (medians shown)")
