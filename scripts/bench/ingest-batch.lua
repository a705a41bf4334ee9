-- wrk script: POST /v1/batch with BATCH (100) track messages for random users out of LEADS;
-- EVENT names them (default "Product Viewed"; bench-ingest-citus.sh also sends a name that maps
-- to no event type, so no segment is entered).
package.path = "scripts/bench/?.lua;" .. package.path
require "wrk-threads"  -- setup/init: thread_id and per-thread seeds

local counter = 0
local key = os.getenv("KEY")
local leads = tonumber(os.getenv("LEADS") or "100000")
local size = tonumber(os.getenv("BATCH") or "100")
local event = os.getenv("EVENT") or "Product Viewed"

request = function()
  local items = {}
  for i = 1, size do
    counter = counter + 1
    items[i] = string.format(
      '{"type":"track","userId":"b%d","event":"%s","messageId":"bt-%d-%d-%d","properties":{"category":"skincare-sets"}}',
      math.random(1, leads), event, thread_id, counter, math.random(1, 1000000000))
  end
  return wrk.format("POST", "/v1/batch",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"},
    '{"batch":[' .. table.concat(items, ",") .. ']}')
end
