-- wrk script: POST /v1/events, one "Pricing Requested" per request from a new lead (a userId
-- never seen before: thread id + counter + RUN), so every request enters a segment, changes the
-- lead's status and routes it — the high-intent event with the most writes and webhooks.
package.path = "scripts/bench/?.lua;" .. package.path
require "wrk-threads"  -- setup/init: thread_id and per-thread seeds

local counter = 0
local key = os.getenv("KEY")
local run = os.getenv("RUN") or "0"

request = function()
  counter = counter + 1
  local body = string.format(
    '{"userId":"p%s-%d-%d","event":"Pricing Requested","messageId":"p-%s-%d-%d","properties":{"plan":"team"}}',
    run, thread_id, counter, run, thread_id, counter)
  return wrk.format("POST", "/v1/events",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end
