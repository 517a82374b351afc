-- Heartbeats, as most calls of protected applications are: each wrk thread captures a seat
-- for each of its units first (a random key each), then sends heartbeats of those sessions
-- in turn. Arguments: the keys file, a seed, a think time and a rate (pace.lua), wrk's thread
-- count, and the units a thread holds (default 64).
local pace = require("pace")
local keys = {}
local sessions, known, units = {}, {}, 64
local captures, turn = 0, 0
refused, heartbeats, first_refusal = 0, 0, ""  -- globals: done() reads them from each thread

function init(args)
  for key in io.lines(args[1]) do
    keys[#keys + 1] = key
  end
  math.randomseed((tonumber(args[2]) or 1) * 1000 + thread_number)
  pace.configure(args[3], args[4], tonumber(args[5]) or 1)
  units = tonumber(args[6]) or 64
end

function delay()
  return pace.delay()
end

local function post(path, body)
  return wrk.format("POST", "/api/app/v1/" .. path,
    {["Content-Type"] = "application/json"}, body)
end

function request()
  if captures < units and #sessions + captures < units then
    captures = captures + 1
    return post("capture", string.format(
      '{"key":"%s","feature_id":10,"user":"h%d-%d","host":"bench-%d","app_version":"bench"}',
      keys[math.random(#keys)], thread_number, captures, math.random(100)))
  end
  if #sessions == 0 then
    -- The captures are still on their way: a health check meanwhile.
    return wrk.format("GET", "/healthz")
  end
  turn = turn % #sessions + 1
  return post("heartbeat", '{"session_id":"' .. sessions[turn] .. '"}')
end

function response(status, headers, body)
  if status ~= 200 then
    refused = refused + 1
    if first_refusal == "" then
      first_refusal = status .. " " .. string.sub(body, 1, 200)
    end
    return
  end
  if not string.find(body, '"binding"', 1, true) then
    return  -- a health check's answer
  end
  heartbeats = heartbeats + 1
  local session = string.match(body, '"session_id":%s*"([%x-]+)"')
  if not known[session] then
    known[session] = true
    sessions[#sessions + 1] = session
  end
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
