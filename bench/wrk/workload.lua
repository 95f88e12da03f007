-- One workload for wrk, configured by environment variables (set by bench/loadgen.py):
--   BENCH_METHOD        GET, POST, PATCH...
--   BENCH_PATH          request path; "{id}" is replaced by a random line of BENCH_IDS_FILE
--   BENCH_IDS_FILE      file of record ids, one a line (optional)
--   BENCH_BODY          JSON body; "{n}" is replaced by a number unique to the request and
--                       "{rank}" by a rank from 5000 to 9999 derived from it (optional)
--   BENCH_AUTH          value of the Authorization header (optional)
--   BENCH_MAX_REQUESTS  stop once this many responses arrived over all threads (0: no bound)
--   BENCH_THREADS       number of wrk threads (to split BENCH_MAX_REQUESTS)
-- done() prints one line "BENCH_JSON {...}" with counts per status and latency percentiles.

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local ids_file = os.getenv("BENCH_IDS_FILE")
local body_template = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")

local threads = {}
local created = 0

function setup(thread)
   created = created + 1
   thread:set("thread_number", created)
   table.insert(threads, thread)
end

function init(args)
   ids = {}
   if ids_file and ids_file ~= "" then
      for line in io.lines(ids_file) do
         ids[#ids + 1] = line
      end
   end
   math.randomseed(thread_number * 7919 + os.time())
   statuses = {}
   responses = 0
   sequence = 0
   limit = 0
   if max_requests > 0 then
      limit = math.ceil(max_requests / thread_count)
   end
   request_headers = {}
   if auth and auth ~= "" then
      request_headers["Authorization"] = auth
   end
   if body_template and body_template ~= "" then
      request_headers["Content-Type"] = "application/json"
   end
end

function request()
   sequence = sequence + 1
   local target = path
   if #ids > 0 then
      target = (string.gsub(path, "{id}", ids[math.random(#ids)]))
   end
   local body = nil
   if body_template and body_template ~= "" then
      local unique = thread_number * 100000000 + sequence
      body = (string.gsub(body_template, "{n}", tostring(unique)))
      body = (string.gsub(body, "{rank}", tostring(5000 + unique % 5000)))
   end
   return wrk.format(method, target, request_headers, body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   responses = responses + 1
   if limit > 0 and responses >= limit then
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local merged = {}
   for _, thread in ipairs(threads) do
      local counts = thread:get("statuses")
      for code, count in pairs(counts) do
         merged[code] = (merged[code] or 0) + count
      end
   end
   local parts = {}
   for code, count in pairs(merged) do
      parts[#parts + 1] = string.format('"%d": %d', code, count)
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_JSON {"duration_us": %d, "requests": %d, "statuses": {%s}, ' ..
      '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      summary.duration, summary.requests, table.concat(parts, ", "),
      errors.connect, errors.read, errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
