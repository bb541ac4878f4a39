-- The login flood of bench/api.py: wrong passwords posted to /login/ as fast as answered.
--
-- One address (many = false): every request from this machine, for one real username: the
-- account is locked after 5 attempts and the address after 20, and the rest are refused.
-- Many addresses (many = true): each request says it comes through the proxy from a random
-- address (X-Forwarded-For, the server trusting one proxy) for a random username, so that no
-- lock is ever reached and every attempt asks for a password check.
--
-- Statuses are counted per thread and printed by done() as one JSON line.

local cfg = dofile(os.getenv("LANGGANAN_FLOOD_CONFIG"))

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local sent = 0
c200, c429, cbusy, cother = 0, 0, 0, 0

function init(args)
  math.randomseed(cfg.seed * 1000 + id)
end

function request()
  sent = sent + 1
  local username = cfg.username
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. cfg.cookie,
  }
  if cfg.many then
    username = string.format("tebakan%d", math.random(1, 100000000))
    headers["X-Forwarded-For"] = string.format(
      "10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254)
    )
  end
  local body = "csrfmiddlewaretoken=" .. cfg.token .. "&username=" .. username
    .. "&password=salah" .. id .. "x" .. sent
  return wrk.format("POST", "/login/", headers, body)
end

function response(status, headers, body)
  if status == 200 then
    c200 = c200 + 1
  elseif status == 429 and body and string.find(body, "sibuk", 1, true) then
    cbusy = cbusy + 1 -- no password-check slot free: "coba lagi sebentar lagi"
  elseif status == 429 then
    c429 = c429 + 1 -- locked
  else
    cother = cother + 1
  end
end

function done(summary, latency, requests)
  local a, b, d, c = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("c200")
    b = b + thread:get("c429")
    d = d + thread:get("cbusy")
    c = c + thread:get("cother")
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "s200": %d, "s429": %d, "busy": %d, "other": %d}\n',
    summary.requests, summary.duration / 1e6, a, b, d, c
  ))
end
