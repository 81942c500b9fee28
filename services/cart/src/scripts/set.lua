-- Sets a line, 0 removing it. KEYS[1] cart; ARGV product, quantity, max lines, now, ttl.
local key, product = KEYS[1], ARGV[1]
local quantity, max_lines = tonumber(ARGV[2]), tonumber(ARGV[3])
if quantity == 0 then
  redis.call('HDEL', key, product)
else
  if redis.call('HEXISTS', key, product) == 0 and line_count(key) >= max_lines then
    return {'lines'}
  end
  redis.call('HSET', key, product, quantity)
end
touch(key, ARGV[4], ARGV[5])
return answer(key)
