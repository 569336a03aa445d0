-- post_unique.lua - wrk script: POST the traces payload of
-- make_payload.mjs with fresh trace ids in every request, so that each
-- request brings new traces (as real traffic does) instead of adding spans
-- to the same 32 traces. The payload's trace ids are
-- b10c5afe <4-byte trace number> <8 zero bytes>; the 8 bytes become
-- (wrk thread, request number).
local path = os.getenv("BENCH_BODY")
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-protobuf"

local threads = {}
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local counter = 0
local function be32(n)
  return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256,
    math.floor(n / 256) % 256, n % 256)
end

-- split the body once around the 8-byte slots
local parts = {}
function init(args)
  local pos = 1
  local marker = "\177\012\090\254"
  while true do
    local s = string.find(body, marker, pos, true)
    if not s then break end
    table.insert(parts, string.sub(body, pos, s + 7)) -- marker + trace number
    pos = s + 16                                      -- skip the 8-byte slot
  end
  table.insert(parts, string.sub(body, pos))
  if #parts < 2 then error("no trace id markers in " .. path) end
end

function request()
  counter = counter + 1
  local slot = be32(tid) .. be32(counter)
  return wrk.format(nil, nil, nil, table.concat(parts, slot))
end

function done(summary, latency, requests)
  io.write(string.format("wrk: requests=%d non2xx=%d socket_errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
