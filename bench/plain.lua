-- The same report as protocol.lua, for a plain GET of the URL wrk is given. Arguments, all
-- optional: a think time in milliseconds, a rate in calls a second and wrk's thread count
-- (pace.lua).
local pace = require("pace")

function init(args)
  pace.configure(args[1], args[2], tonumber(args[3]) or 1)
end

function delay()
  return pace.delay()
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
