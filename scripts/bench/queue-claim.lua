-- wrk: POST /v1/queues/bench/claim, one item per request, with the queue key in $KEY.
wrk.method = "POST"
wrk.path = "/v1/queues/bench/claim"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"limit":1,"lease_seconds":3600}'

local empty = 0
function response(status, headers, body)
    if status == 200 and string.find(body, '"data":[]', 1, true) then empty = empty + 1 end
end
function done(summary, latency, requests)
    io.stderr:write(string.format("empty_answers %d\n", empty))
end
