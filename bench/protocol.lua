-- capture → heartbeat → release cycles for wrk.
-- A connection that is free takes the oldest pending step: a release if one waits, else a
-- heartbeat, else a new capture with a random key and unit. Responses are told apart by
-- their fields, so every cycle completes whichever connection carries each step.
-- Arguments: the keys file, a seed, and optionally a think time in milliseconds (each
-- connection then waits a random 0–2× that before each call, as an application does between
-- its calls), a rate in calls a second and wrk's thread count (pace.lua).
local pace = require("pace")
local keys = {}
local heartbeats, releases = {}, {}
local counter = 0
refused, cycles, first_refusal = 0, 0, ""  -- globals: done() reads them from each thread

function init(args)
  for key in io.lines(args[1]) do
    keys[#keys + 1] = key
  end
  math.randomseed((tonumber(args[2]) or 1) * 1000 + thread_number)
  pace.configure(args[3], args[4], tonumber(args[5]) or 1)
end

function delay()
  return pace.delay()
end

local function post(path, body)
  return wrk.format("POST", "/api/app/v1/" .. path,
    {["Content-Type"] = "application/json"}, body)
end

function request()
  if #releases > 0 then
    return post("release", '{"session_id":"' .. table.remove(releases, 1) .. '"}')
  end
  if #heartbeats > 0 then
    return post("heartbeat", '{"session_id":"' .. table.remove(heartbeats, 1) .. '"}')
  end
  counter = counter + 1
  local key = keys[math.random(#keys)]
  return post("capture", string.format(
    '{"key":"%s","feature_id":10,"user":"u%d-%d","host":"bench-%d","app_version":"bench"}',
    key, thread_number, counter, math.random(100)))
end

function response(status, headers, body)
  if status ~= 200 then
    refused = refused + 1
    if first_refusal == "" then
      first_refusal = status .. " " .. string.sub(body, 1, 200)
    end
    return
  end
  local session = string.match(body, '"session_id":%s*"([%x-]+)"')
  if string.find(body, '"binding"', 1, true) then
    heartbeats[#heartbeats + 1] = session
  elseif string.find(body, '"released_at"', 1, true) then
    cycles = cycles + 1
  else
    releases[#releases + 1] = session
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  -- Units are numbered per thread, so two threads never capture as the same unit.
  thread:set("thread_number", #threads)
end

function done(summary, latency, requests)
  local total_cycles, total_refused = 0, 0
  for _, thread in ipairs(threads) do
    total_cycles = total_cycles + thread:get("cycles")
    total_refused = total_refused + thread:get("refused")
    if thread:get("first_refusal") ~= "" then
      io.write("first refusal: " .. thread:get("first_refusal") .. "\n")
    end
  end
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"cycles":%d,"refused":%d,"errors":%d,' ..
    '"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6, total_cycles, total_refused,
    summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
