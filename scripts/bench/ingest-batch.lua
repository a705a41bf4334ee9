-- wrk script: POST /v1/batch with BATCH (100) track messages for random users out of LEADS.
local counter = 0
local threads = {}
local key = os.getenv("KEY")
local leads = tonumber(os.getenv("LEADS") or "100000")
local size = tonumber(os.getenv("BATCH") or "100")

-- thread_id is a global: setup() sets it in each thread's own Lua state (a local would shadow it).
function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = thread_id or 0
  math.randomseed(os.time() + thread_id * 104729)
end

request = function()
  local items = {}
  for i = 1, size do
    counter = counter + 1
    items[i] = string.format(
      '{"type":"track","userId":"b%d","event":"Product Viewed","messageId":"bt-%d-%d-%d","properties":{"category":"skincare-sets"}}',
      math.random(1, leads), thread_id, counter, math.random(1, 1000000000))
  end
  return wrk.format("POST", "/v1/batch",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"},
    '{"batch":[' .. table.concat(items, ",") .. ']}')
end
