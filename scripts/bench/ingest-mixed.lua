-- wrk script: the real ingest workload (scripts/bench-ingest-citus.sh, WORKLOAD=real). Each
-- message is, with probability PRICING (percent, default 10), a "Pricing Requested" from a new
-- lead (a userId never seen before: RUN + thread id + counter) — it enters the decision stage,
-- changes the status to qualified and routes the lead to sales (queue high-intent), as
-- scripts/bench/ingest-pricing.lua sends — and otherwise a "Product Viewed" (running shoes or
-- skincare sets) from one of LEADS existing users, which enters and leaves the browsing and
-- category segments and moves stages, as scripts/bench/ingest-batch.lua sends.
-- BATCH > 1 (default 100): POST /v1/batch with BATCH messages; BATCH = 1: POST /v1/events.
-- WARMUP=1: only product views, from the LEADS users in turn from OFFSET on (thread t of T sends
-- users OFFSET+t+1, OFFSET+t+1+T, …, modulo LEADS; T is THREADS, 2), so one pass creates every lead.
package.path = "scripts/bench/?.lua;" .. package.path
require "wrk-threads"  -- setup/init: thread_id and per-thread seeds

local function number(name, default) return tonumber(os.getenv(name) or default) end
local leads, size, pricing = number("LEADS", 5000), number("BATCH", 100), number("PRICING", 10)
local threads, offset = number("THREADS", 2), number("OFFSET", 0)
local key, run, warmup = os.getenv("KEY"), os.getenv("RUN") or "0", os.getenv("WARMUP") == "1"
local counter = 0
local categories = { "running-shoes", "skincare-sets" }
local headers = { ["Authorization"] = "Bearer " .. (key or ""), ["Content-Type"] = "application/json" }

local function message(prefix)
  counter = counter + 1
  local user = math.random(1, leads)
  if warmup then
    user = (offset + (counter - 1) * threads + thread_id) % leads + 1
  elseif math.random(1, 100) <= pricing then
    return string.format(
      '%s"userId":"p%s-%d-%d","event":"Pricing Requested","messageId":"mp-%s-%d-%d","properties":{"plan":"team"}}',
      prefix, run, thread_id, counter, run, thread_id, counter)
  end
  return string.format(
    '%s"userId":"b%d","event":"Product Viewed","messageId":"mv-%s-%d-%d-%d","properties":{"category":"%s","price":%d}}',
    prefix, user, run, thread_id, counter, math.random(1, 1000000000),
    categories[math.random(1, 2)], math.random(5, 300))
end

request = function()
  if size <= 1 then
    return wrk.format("POST", "/v1/events", headers, message("{"))
  end
  local items = {}
  for i = 1, size do
    items[i] = message('{"type":"track",')
  end
  return wrk.format("POST", "/v1/batch", headers, '{"batch":[' .. table.concat(items, ",") .. ']}')
end
