"""Counts the statements a Citus coordinator ran over more than one shard, from its server log
with citus.multi_task_query_log_level=log and log_min_error_statement=log (run by
scripts/bench-ingest-citus.sh with STATEMENTS=1). Each such statement logs "multi-task query
about to be executed", then, from the same backend, a HINT, a CONTEXT (the function and the
statement inside it, when it ran in one) and the top-level STATEMENT. Prints the count per event
in all and the most frequent statements.
Usage: citus-multi-shard.py LOG EVENTS TOP"""
import collections, re, sys

events, top = int(sys.argv[2]), int(sys.argv[3])
start = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+ \w+ \[(\d+)\] (\w+):  (.*)")
open_by_pid, counts, current = {}, collections.Counter(), None

def close(pid):
    rec = open_by_pid.pop(pid, None)
    if rec is not None:
        where = " | ".join(rec["context"][:2])
        counts[((where + " || ") if where else "") + rec["statement"]] += 1

for line in open(sys.argv[1], errors="replace"):
    m = start.match(line)
    if not m:
        if current is not None and len(current) < 3:  # a CONTEXT's continuation lines
            current.append(re.sub(r"\s+", " ", line.strip())[:100])
        continue
    pid, level, text = m.groups()
    current = None
    if level == "LOG":
        close(pid)
        if text.startswith("multi-task query about to be executed"):
            open_by_pid[pid] = {"context": [], "statement": ""}
        continue
    rec = open_by_pid.get(pid)
    if rec is None:
        continue
    if level == "CONTEXT":
        rec["context"] = current = [re.sub(r"\s+", " ", text.strip())[:100]]
    elif level == "STATEMENT":
        rec["statement"] = re.sub(r"\s+", " ", text)[:120]
        close(pid)
for pid in list(open_by_pid):
    close(pid)
total = sum(counts.values())
print(f"{total / events:.3f} multi-shard statements per event in all ({total} over {events} events)")
for key, n in counts.most_common(top):
    print(f"  {n / events:.4f}/event ({n})  {key}")
