-- Heartbeats of held seats, as most calls of protected applications are. The seats are
-- captured before wrk starts (protocol_bench.py), so that only heartbeats are measured; each
-- wrk thread takes every n-th session of the file and sends their heartbeats in turn.
-- Arguments: the sessions file, a think time and a rate (pace.lua), and wrk's thread count.
local pace = require("pace")
local sessions = {}
local turn = 0
refused, heartbeats, first_refusal = 0, 0, ""  -- globals: done() reads them from each thread

function init(args)
  local threads = tonumber(args[4]) or 1
  local index = 0
  for session in io.lines(args[1]) do
    if index % threads == thread_number - 1 then
      sessions[#sessions + 1] = session
    end
    index = index + 1
  end
  pace.configure(args[2], args[3], threads)
end

function delay()
  return pace.delay()
end

function request()
  turn = turn % #sessions + 1
  return wrk.format("POST", "/api/app/v1/heartbeat", {["Content-Type"] = "application/json"},
    '{"session_id":"' .. sessions[turn] .. '"}')
end

function response(status, headers, body)
  if status ~= 200 then
    refused = refused + 1
    if first_refusal == "" then
      first_refusal = status .. " " .. string.sub(body, 1, 200)
    end
    return
  end
  heartbeats = heartbeats + 1
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_number", #threads)
end

function done(summary, latency, requests)
  local total, total_refused = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("heartbeats")
    total_refused = total_refused + thread:get("refused")
    if thread:get("first_refusal") ~= "" then
      io.write("first refusal: " .. thread:get("first_refusal") .. "\n")
    end
  end
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"cycles":%d,"refused":%d,"errors":%d,' ..
    '"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6, total, total_refused,
    summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
