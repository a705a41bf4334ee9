-- wrk script: POST /v1/batch with BATCH (100) track messages for random users out of LEADS.
package.path = "scripts/bench/?.lua;" .. package.path
require "wrk-threads"  -- setup/init: thread_id and per-thread seeds

local counter = 0
local key = os.getenv("KEY")
local leads = tonumber(os.getenv("LEADS") or "100000")
local size = tonumber(os.getenv("BATCH") or "100")

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
