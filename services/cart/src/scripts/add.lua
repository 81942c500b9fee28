-- Adds to a line. KEYS[1] cart; ARGV product, quantity, max quantity, max lines, now, ttl.
-- Check and increment in one script, so concurrent adds can neither pass the cap nor
-- be lost.
local key, product = KEYS[1], ARGV[1]
local adding, max_quantity, max_lines = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local current = tonumber(redis.call('HGET', key, product) or '0')
if current + adding > max_quantity then
  return {'quantity', tostring(current)}
end
if current == 0 and line_count(key) >= max_lines then
  return {'lines'}
end
redis.call('HINCRBY', key, product, adding)
touch(key, ARGV[5], ARGV[6])
return answer(key)
