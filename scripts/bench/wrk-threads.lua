-- Shared by the ingest wrk scripts (require "wrk-threads"): numbers each wrk thread — thread_id
-- is a global that setup() sets in the thread's own Lua state, so message ids never collide —
-- and seeds each thread's random generator apart from the others.
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = thread_id or 0
  math.randomseed(os.time() + thread_id * 7919)
end
