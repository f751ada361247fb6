-- wrk script for the web benchmark: random paths from a file, the session cookie,
-- and the app's own time per response read from its Server-Timing header.
local paths = {}
local cookie = ""
local buffer = {}
durations = ""
failures = 0

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  cookie = args[2]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  local path = paths[math.random(#paths)]
  return wrk.format("GET", path, { ["Cookie"] = "ms_session=" .. cookie })
end

function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
  local timing = headers["server-timing"] or headers["Server-Timing"]
  if timing then
    buffer[#buffer + 1] = timing:match("dur=([%d%.]+)")
    if #buffer >= 10 then
      durations = durations .. table.concat(buffer, ",") .. ","
      buffer = {}
    end
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local all = {}
  local failed = 0
  for _, thread in ipairs(threads) do
    all[#all + 1] = thread:get("durations")
    failed = failed + thread:get("failures")
  end
  io.write(string.format("CLIENT %d %d %.3f %.3f %.3f\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    failed))
  io.write("SERVER " .. table.concat(all, "") .. "\n")
end
