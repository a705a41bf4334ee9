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

-- MAX_REQUESTS (optional): wrk ends after that many answers (run it with one thread, -t1: the
-- first thread to get there ends the process), so the builds of a before/after run store the same
-- number of each kind of event whatever their speed (scripts/bench-storage.sh EVENTS): what a run
-- stores per event depends on its mix. wrk itself always runs its whole duration.
local max_requests = tonumber(os.getenv("MAX_REQUESTS") or "0")
if max_requests > 0 then
  local answered = 0
  function response()
    answered = answered + 1
    if answered >= max_requests then os.exit(0) end
  end
end
