-- bench.lua -- one wrk script for every scenario of bench/run.sh.
--
-- Environment (read in every wrk thread):
--   SCENARIO     rest_list | rest_poll | rest_get | rest_create | rest_update | rest_complete |
--                gql_list | gql_get10 | mixed
--   POLL_TAGS_FILE  rest_poll: lines "<user_id> <ETag>" (the list's tag, sent as If-None-Match)
--   USERS_FILE   lines "<user_id> <jwt> <task_id> [<task_id> ...]" (driver.py writes it;
--                the anchors' data/users.txt has the same format)
--   GQL_LIST_FILE, GQL_GET10_FILE   GraphQL documents (bench/queries/*.graphql)
--   MIX          mixed weights, e.g. "rest_list:35,rest_get:25,gql_list:10,..." (driver.py sets it)
--   API_PREFIX   default "/api";  GQL_PATH  default "/graphql";  LIST_LIMIT  default 50
-- Each request picks a random user of USERS_FILE (and a random task id of that user).
-- Errors: any non-2xx status (304 counts as success: rest_poll expects it), and any body containing "errors" (GraphQL errors; REST
-- bodies never carry that key), plus wrk's own socket errors (connect/read/write/timeout).
-- done() prints machine-readable lines for driver.py:
--   RESULT <req/s> <p50_ms> <p95_ms> <p99_ms> <errors> <requests> <busy_conns>
--   ERRORS status=<n> gql=<n> connect=<n> read=<n> write=<n> timeout=<n> first=<status|gql>
-- busy_conns = req/s x mean latency (Little's law): how many connections were really
-- cycling; far below -c means requests hung (wrk records no latency for them).
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

bad_status = 0
bad_gql = 0
first_bad = ""

local users = {}
local poll_tags = {}
local scenario, prefix, gql_path, list_limit, heavy_page, heavy_pages, heavy
local gql_list_doc, gql_get10_doc
local mix = {}       -- { {name, cumulative_weight}, ... }
local mix_total = 0
local seq = 0

local function json_escape(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n'):gsub('\r', ''):gsub('\t', ' '))
end

local function read_doc(var)
  local path = os.getenv(var)
  assert(path and path ~= "", var .. " not set")
  local f = assert(io.open(path, "r"))
  local doc = f:read("*a")
  f:close()
  -- drop '#' comment lines so the posted document stays small
  local lines = {}
  for line in doc:gmatch("[^\n]+") do
    if not line:match("^%s*#") then table.insert(lines, line) end
  end
  return json_escape(table.concat(lines, "\n"))
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  scenario = os.getenv("SCENARIO") or "rest_list"
  prefix = os.getenv("API_PREFIX") or "/api"
  gql_path = os.getenv("GQL_PATH") or "/graphql"
  list_limit = os.getenv("LIST_LIMIT") or "50"
  heavy_page = tonumber(os.getenv("HEAVY_PAGE") or "100")
  heavy_pages = tonumber(os.getenv("HEAVY_PAGES") or "10")
  local f = assert(io.open(assert(os.getenv("USERS_FILE"), "USERS_FILE not set"), "r"))
  for line in f:lines() do
    local parts = {}
    for w in line:gmatch("%S+") do table.insert(parts, w) end
    if #parts >= 3 then
      local ids = {}
      for i = 3, #parts do table.insert(ids, parts[i]) end
      table.insert(users, { user = parts[1], auth = "Bearer " .. parts[2], ids = ids })
    end
  end
  f:close()
  assert(#users > 0, "no users loaded")
  for _, u in ipairs(users) do
    if u.user == "heavy_user" then heavy = u end
  end

  local kinds = {}
  if scenario == "mixed" then
    local spec = os.getenv("MIX") or
      "rest_list:35,rest_get:25,gql_list:10,gql_get10:10,rest_create:5,rest_update:10,rest_complete:5"
    for name, w in spec:gmatch("([%w_]+):(%d+)") do
      mix_total = mix_total + tonumber(w)
      table.insert(mix, { name, mix_total })
      kinds[name] = true
    end
    assert(mix_total > 0, "empty MIX")
  else
    kinds[scenario] = true
  end
  if kinds.rest_poll then
    local pf = assert(io.open(assert(os.getenv("POLL_TAGS_FILE"), "POLL_TAGS_FILE not set"), "r"))
    for line in pf:lines() do
      local user, tag = line:match("^(%S+) (%S+)$")
      if user then poll_tags[user] = tag end
    end
    pf:close()
  end
  if kinds.gql_list then gql_list_doc = read_doc("GQL_LIST_FILE") end
  if kinds.gql_get10 then gql_get10_doc = read_doc("GQL_GET10_FILE") end
end

local auth_json = { ["Authorization"] = "", ["Content-Type"] = "application/json" }
local auth_only = { ["Authorization"] = "" }
local poll_headers = { ["Authorization"] = "", ["If-None-Match"] = "" }
local VARS = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" }

local function make(kind)
  local u = users[math.random(#users)]
  local ids = u.ids
  if kind == "rest_list" then
    auth_only["Authorization"] = u.auth
    return wrk.format("GET", prefix .. "/" .. u.user .. "/tasks?limit=" .. list_limit, auth_only)
  elseif kind == "rest_poll" then
    -- the same list as rest_list, sent with the tag it had: unchanged, so 304 without a body
    poll_headers["Authorization"] = u.auth
    poll_headers["If-None-Match"] = poll_tags[u.user] or ""
    return wrk.format("GET", prefix .. "/" .. u.user .. "/tasks?limit=" .. list_limit, poll_headers)
  elseif kind == "rest_heavy" then
    -- one page of heavy_user's tasks (1,000 in the full seed), a random page each time
    auth_only["Authorization"] = heavy.auth
    return wrk.format("GET", prefix .. "/heavy_user/tasks?limit=" .. heavy_page .. "&offset="
      .. heavy_page * (math.random(heavy_pages) - 1), auth_only)
  elseif kind == "rest_get" then
    auth_only["Authorization"] = u.auth
    return wrk.format("GET", prefix .. "/" .. u.user .. "/tasks/" .. ids[math.random(#ids)], auth_only)
  elseif kind == "rest_create" then
    seq = seq + 1
    auth_json["Authorization"] = u.auth
    return wrk.format("POST", prefix .. "/" .. u.user .. "/tasks", auth_json,
      '{"title":"wrk-create ' .. tid .. '-' .. seq .. '"}')
  elseif kind == "rest_update" then
    seq = seq + 1
    auth_json["Authorization"] = u.auth
    return wrk.format("PUT", prefix .. "/" .. u.user .. "/tasks/" .. ids[math.random(#ids)], auth_json,
      '{"title":"wrk-update ' .. tid .. '-' .. seq .. '"}')
  elseif kind == "rest_complete" then
    auth_json["Authorization"] = u.auth
    return wrk.format("PATCH", prefix .. "/" .. u.user .. "/tasks/" .. ids[math.random(#ids)] .. "/complete",
      auth_json, (math.random(2) == 1) and '{"completed":true}' or '{"completed":false}')
  elseif kind == "gql_list" then
    auth_json["Authorization"] = u.auth
    return wrk.format("POST", gql_path, auth_json, '{"query":"' .. gql_list_doc .. '","variables":{}}')
  elseif kind == "gql_get10" then
    local v = {}
    for i = 1, 10 do v[i] = '"' .. VARS[i] .. '":"' .. ids[(i - 1) % #ids + 1] .. '"' end
    auth_json["Authorization"] = u.auth
    return wrk.format("POST", gql_path, auth_json,
      '{"query":"' .. gql_get10_doc .. '","variables":{' .. table.concat(v, ",") .. '}}')
  end
  error("unknown scenario " .. tostring(kind))
end

function request()
  if scenario ~= "mixed" then return make(scenario) end
  local r = math.random(mix_total)
  for _, m in ipairs(mix) do
    if r <= m[2] then return make(m[1]) end
  end
end

function response(status, headers, body)
  if (status < 200 or status > 299) and status ~= 304 then
    bad_status = bad_status + 1
    if first_bad == "" then first_bad = tostring(status) end
  elseif body ~= nil and body:find('"errors"', 1, true) then
    bad_gql = bad_gql + 1
    if first_bad == "" then first_bad = "gql" end
  end
end

function done(summary, latency, requests)
  local bs, bg, fb = 0, 0, ""
  for _, t in ipairs(threads) do
    bs = bs + (tonumber(t:get("bad_status")) or 0)
    bg = bg + (tonumber(t:get("bad_gql")) or 0)
    local f = t:get("first_bad")
    if fb == "" and f ~= nil and f ~= "" then fb = f end
  end
  local e = summary.errors
  local errs = bs + bg + e.connect + e.read + e.write + e.timeout
  local secs = summary.duration / 1e6
  local rps = summary.requests / secs
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %.0f\n",
    rps, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errs, summary.requests, rps * latency.mean / 1e6))
  io.write(string.format("ERRORS status=%d gql=%d connect=%d read=%d write=%d timeout=%d first=%s\n",
    bs, bg, e.connect, e.read, e.write, e.timeout, fb == "" and "-" or fb))
end
