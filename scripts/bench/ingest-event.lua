-- wrk script: POST /v1/events, one Product Viewed per request for a random one of LEADS users,
-- each with a unique messageId (thread id + counter), so every request is a real write.
package.path = "scripts/bench/?.lua;" .. package.path
require "wrk-threads"  -- setup/init: thread_id and per-thread seeds

local counter = 0
local key = os.getenv("KEY")
local leads = tonumber(os.getenv("LEADS") or "100000")

request = function()
  counter = counter + 1
  local body = string.format(
    '{"userId":"b%d","event":"Product Viewed","messageId":"e-%d-%d-%d","properties":{"category":"running-shoes","price":%d}}',
    math.random(1, leads), thread_id, counter, math.random(1, 1000000000), math.random(5, 300))
  return wrk.format("POST", "/v1/events",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end
