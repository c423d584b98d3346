-- Record a callback request that keeps the caller's place, or merge it into the pending one
-- for the same number (compare-and-set on the numbers hash; the caller retries on 'retry').
-- KEYS[1] waiting zset  KEYS[2] joined zset  KEYS[3] callback numbers hash
-- KEYS[4] callback entry hash (new or the existing one)  KEYS[5] the caller's call entry hash
-- KEYS[6] parked zset: a merged callback that was parked goes back in line (the next routing
-- pass parks it again if it still may not be routed; its not_before may have changed)
-- ARGV[1] number  ARGV[2] callback id  ARGV[3] score  ARGV[4] joined_at ms  ARGV[5] call member
-- ARGV[6] expected current id for the number ('' = none)  ARGV[7] not_before ms
-- ARGV[8..] field, value pairs for a new entry
-- Returns {outcome, callback id}: outcome 'created', 'merged', 'retry', or 'busy' when the
-- caller is being connected to an agent right now.
local current = redis.call('HGET', KEYS[3], ARGV[1])
if (current or '') ~= ARGV[6] then return {'retry', current or ''} end
if ARGV[5] ~= '' then
  local state = redis.call('HGET', KEYS[5], 'state')
  if state == 'reserved' or state == 'connected' then return {'busy', ''} end
  if state == 'waiting' then
    redis.call('ZREM', KEYS[1], ARGV[5])
    redis.call('ZREM', KEYS[2], ARGV[5])
    redis.call('DEL', KEYS[5])
  end
end
local member = 'cb:' .. ARGV[2]
if current then
  local old = redis.call('HMGET', KEYS[4], 'score', 'state', 'joined_at')
  if old[2] == 'waiting' and tonumber(ARGV[3]) < tonumber(old[1]) then
    redis.call('HSET', KEYS[4], 'score', ARGV[3], 'joined_at', ARGV[4])
    redis.call('ZADD', KEYS[1], ARGV[3], member)
    redis.call('ZADD', KEYS[2], ARGV[4], member)
    redis.call('ZREM', KEYS[6], member)
  elseif old[2] == 'waiting' and redis.call('ZREM', KEYS[6], member) == 1 then
    redis.call('ZADD', KEYS[1], old[1], member)
  end
  if tonumber(ARGV[7]) > 0 then redis.call('HSET', KEYS[4], 'not_before', ARGV[7]) end
  redis.call('HINCRBY', KEYS[4], 'requests', 1)
  return {'merged', current}
end
redis.call('HSET', KEYS[4], unpack(ARGV, 8))
redis.call('ZADD', KEYS[1], ARGV[3], member)
redis.call('ZADD', KEYS[2], ARGV[4], member)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return {'created', ARGV[2]}
