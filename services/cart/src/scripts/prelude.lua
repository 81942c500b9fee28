-- Shared head of every cart script. The hash holds one field per product id plus
-- `_updated_at`; product ids never start with `_`, so they cannot clash.
local UPDATED_AT = '_updated_at'

-- How many products the cart holds.
local function line_count(key)
  return redis.call('HLEN', key) - redis.call('HEXISTS', key, UPDATED_AT)
end

-- Stamps the write and restarts the TTL (HSET alone keeps the old TTL). A cart left
-- without lines is deleted, so an empty cart always reads as never written.
local function touch(key, now, ttl)
  if line_count(key) == 0 then
    redis.call('DEL', key)
  else
    redis.call('HSET', key, UPDATED_AT, now)
    redis.call('EXPIRE', key, ttl)
  end
end

-- 'ok' followed by the cart's fields and values.
local function answer(key)
  local reply = redis.call('HGETALL', key)
  table.insert(reply, 1, 'ok')
  return reply
end
