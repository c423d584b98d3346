-- Put a caller (or callback) in line, once. Idempotent: a retried webhook gets the same place.
-- KEYS[1] waiting zset   KEYS[2] joined zset   KEYS[3] entry hash
-- KEYS[4] parked zset (optional): entries set aside still count towards the max size
-- ARGV[1] member  ARGV[2] score  ARGV[3] joined_at ms  ARGV[4] max size
-- ARGV[5..] field, value pairs for the entry hash (must include state=waiting)
-- Returns {position (1-based), created 1|0}; {-1, 0} when the line is full;
-- {0, 0} when the member is already with an agent or waiting in another queue.
local state = redis.call('HGET', KEYS[3], 'state')
if state then
  local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
  if state == 'waiting' and rank then return {rank + 1, 0} end
  return {0, 0}
end
local size = redis.call('ZCARD', KEYS[1])
if KEYS[4] then size = size + redis.call('ZCARD', KEYS[4]) end
if size >= tonumber(ARGV[4]) then return {-1, 0} end
redis.call('HSET', KEYS[3], unpack(ARGV, 5))
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return {redis.call('ZRANK', KEYS[1], ARGV[1]) + 1, 1}
