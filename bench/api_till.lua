-- The tills of the POS API load benchmark, for wrk (bench/api.py writes the configuration
-- and reads what this writes).
--
-- wrk runs one connection per thread here (-t N -c N), so in each thread a request and its
-- answer strictly alternate: each answer is timed against its own request and each checkout's
-- outcome is known. Every request is built here: 60 % lookups by the phone of a random
-- customer, 30 % checkouts (a unique Idempotency-Key, a random basket, a member or a walk-in,
-- sometimes points redeemed or a voucher), 10 % quotes.
--
-- Paced (rate > 0): each till sends `rate` requests a second, waiting after an answer for the
-- rest of its 1/rate interval (as locust's constant_throughput). Saturated (rate = 0): the
-- next request goes as soon as the answer is in.
--
-- After `stop_at` a till sends only lookups (not recorded), so that wrk, which drops what is
-- in flight when its time is up, never leaves an accepted checkout unread.
--
-- Each thread writes one file, `<out>/<thread>.tsv`:
--   R <name> <status> <ms> <started>     a request of the measured period
--   S <key> <status> <customer> <id> <points>   every checkout (warm-up included)

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } lg_timespec;
int clock_gettime(int clock_id, lg_timespec *tp);
]]
local CLOCK_MONOTONIC = 1 -- the clock of Python's time.monotonic()
local clock = ffi.new("lg_timespec")
local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local cfg = dofile(os.getenv("LANGGANAN_TILL_CONFIG"))

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local out, auth
local pending = nil -- {name, started, key, customer}
local last_started = nil
local checkouts = 0

local function pick(list)
  return list[math.random(#list)]
end

function init(args)
  math.randomseed(cfg.seed * 1000 + id)
  out = assert(io.open(cfg.out .. "/" .. id .. ".tsv", "w"))
  out:setvbuf("full")
  auth = "Bearer " .. cfg.key
end

local payments = { "cash", "qris", "debit_card", "e_wallet" }

local function basket()
  local lines = {}
  for i = 1, math.random(1, 4) do
    lines[i] = string.format('{"product_id": %d, "quantity": %d}', pick(cfg.products), math.random(1, 3))
  end
  local body = '{"lines": [' .. table.concat(lines, ", ") .. '], "payment_method": "' .. pick(payments) .. '"'
  local customer = "-"
  local roll = math.random()
  if roll < 0.10 and #cfg.rich_members > 0 then
    customer = pick(cfg.rich_members)
    body = body .. ', "customer_id": ' .. customer .. ', "points_to_redeem": ' .. cfg.min_redeem
  elseif roll < 0.70 then
    customer = pick(cfg.customers)
    body = body .. ', "customer_id": ' .. customer
  end
  if math.random() < 0.10 then
    body = body .. ', "voucher_codes": ["' .. cfg.voucher .. '"]'
  end
  return body .. "}", customer
end

local function finish(status, body)
  local name, started, key, customer = pending[1], pending[2], pending[3], pending[4]
  local ms = (now() - started) * 1000
  pending = nil
  if started >= cfg.measure_from and started < cfg.measure_to and name ~= "tail" then
    out:write(string.format("R\t%s\t%d\t%.3f\t%.6f\n", name, status, ms, started))
  end
  if name == "checkout" then
    local sale_id, points = "-", "-"
    if status == 201 and body then
      sale_id = string.match(body, '"transaction":%s*{%s*"id":%s*(%d+)') or "?"
      points = string.match(body, '"points_earned":%s*(%-?%d+)') or "?"
    end
    out:write(string.format("S\t%s\t%d\t%s\t%s\t%s\n", key, status, customer, sale_id, points))
  end
  if name == "tail" then
    out:flush() -- every checkout is answered by now
  end
end

function request()
  if pending then
    finish(0, nil) -- the last request got no answer (the connection failed)
  end
  local started = now()
  last_started = started
  local roll = math.random(cfg.mix_total)
  local headers = { ["Authorization"] = auth }
  if started >= cfg.stop_at then
    pending = { "tail", started }
    return wrk.format("GET", "/api/v1/customers/lookup?phone=" .. pick(cfg.phones), headers)
  elseif roll <= cfg.mix_lookup then
    pending = { "lookup", started }
    return wrk.format("GET", "/api/v1/customers/lookup?phone=" .. pick(cfg.phones), headers)
  end
  local body, customer = basket()
  headers["Content-Type"] = "application/json"
  if roll <= cfg.mix_lookup + cfg.mix_checkout then
    checkouts = checkouts + 1
    local key = string.format("%s-%d-%d", cfg.run, id, checkouts)
    headers["Idempotency-Key"] = key
    pending = { "checkout", started, key, customer }
    return wrk.format("POST", "/api/v1/transactions", headers, body)
  end
  pending = { "quote", started }
  return wrk.format("POST", "/api/v1/checkout/quote", headers, body)
end

function response(status, headers, body)
  if pending then
    finish(status, body)
  end
end

function delay()
  if cfg.rate <= 0 then
    return 0
  end
  local interval = 1000 / cfg.rate
  if last_started == nil then
    return math.random() * interval -- the tills do not all start at once
  end
  local wait = interval - (now() - last_started) * 1000
  return wait > 0 and math.floor(wait) or 0
end
