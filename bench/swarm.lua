-- wrk script for bench/swarm.py: each request posts an insight as one of the writers
-- listed in the file named by SWARM_WRITERS (lines "token case_id"), round robin per
-- thread, with a fresh Idempotency-Key each time.
local writers = {}
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function init(args)
  local path = os.getenv("SWARM_WRITERS")
  for line in io.lines(path) do
    local token, case = line:match("^(%S+)%s+(%S+)$")
    writers[#writers + 1] = { token = token, case = case }
  end
  counter = tid * 100000000
end

local body = '{"kind": "finding", "text": "The retry path drops the 3-D Secure '
  .. 'authentication result: the second authorisation goes out without the cavv, so '
  .. 'the issuer declines it (gateway log, req_8Fz2)."}'

function request()
  counter = counter + 1
  local w = writers[(counter % #writers) + 1]
  local headers = {
    ["Authorization"] = "Bearer " .. w.token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "wrk-" .. counter,
  }
  return wrk.format("POST", "/api/cases/" .. w.case .. "/insights", headers, body)
end
