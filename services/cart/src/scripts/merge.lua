-- Merges a session cart into a user cart and deletes the session cart.
-- KEYS[1] user cart, KEYS[2] session cart; ARGV max quantity, max lines, now, ttl.
-- All or nothing: if the merged cart would hold too many products nothing changes, so
-- the session's lines are never lost.
local user, session = KEYS[1], KEYS[2]
local max_quantity, max_lines = tonumber(ARGV[1]), tonumber(ARGV[2])
local incoming = redis.call('HGETALL', session)
local moving, new_lines = 0, 0
for i = 1, #incoming, 2 do
  if incoming[i] ~= UPDATED_AT then
    moving = moving + 1
    if redis.call('HEXISTS', user, incoming[i]) == 0 then
      new_lines = new_lines + 1
    end
  end
end
if moving == 0 then
  redis.call('DEL', session)
  return answer(user)
end
if line_count(user) + new_lines > max_lines then
  return {'lines'}
end
for i = 1, #incoming, 2 do
  local product = incoming[i]
  if product ~= UPDATED_AT then
    local sum = tonumber(redis.call('HGET', user, product) or '0') + tonumber(incoming[i + 1])
    redis.call('HSET', user, product, math.min(sum, max_quantity))
  end
end
redis.call('DEL', session)
touch(user, ARGV[3], ARGV[4])
return answer(user)
