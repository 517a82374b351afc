-- Pacing shared by the wrk scripts: with a rate R (calls a second over all threads), each
-- thread hands out send times R/threads apart and a connection that is free waits for the
-- next one, so calls arrive at a fixed rate whatever the answers' latency (open loop, as long
-- as a free connection is there); with a think time T instead, each connection waits a
-- random 0–2T ms before each call (closed loop). Neither: calls at once (saturated).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } pace_timespec;
int clock_gettime(int clock, pace_timespec *now);
]]
local now_spec = ffi.new("pace_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, now_spec)  -- CLOCK_MONOTONIC
  return tonumber(now_spec.tv_sec) * 1000 + tonumber(now_spec.tv_nsec) / 1e6
end

local pace = {think = 0, interval = 0, due = 0}

function pace.configure(think, rate, threads)
  pace.think = tonumber(think) or 0
  rate = tonumber(rate) or 0
  if rate > 0 then
    pace.interval = 1000 * threads / rate
    pace.due = now_ms() + math.random() * pace.interval
  end
end

function pace.delay()
  if pace.interval > 0 then
    local now = now_ms()
    if pace.due < now then
      pace.due = now
    end
    local wait = pace.due - now
    pace.due = pace.due + pace.interval
    return math.floor(wait)
  end
  return pace.think > 0 and math.random(0, 2 * pace.think) or 0
end

return pace
