-- The same report as protocol.lua, for a plain GET of the URL wrk is given; the first
-- argument, when given, is the think time in milliseconds as in protocol.lua.
local think = 0

function init(args)
  think = tonumber(args[1]) or 0
end

function delay()
  return think > 0 and math.random(0, 2 * think) or 0
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"errors":%d,' ..
    '"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
