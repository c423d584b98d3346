-- A connected call ended: record the handle time, put the agent in wrap-up.
-- KEYS[1] entry hash  KEYS[2] agent hash  KEYS[3] stats hash  KEYS[4] recent handle times list
-- ARGV[1] member  ARGV[2] now ms  ARGV[3] wrap-up ends ms  ARGV[4] recent list cap
-- ARGV[5] queue  ARGV[6] '1' when the queue requires a disposition before wrap-up ends
-- Returns the handle time in ms, or -1 when the member was not connected (a repeat is a no-op).
local e = redis.call('HMGET', KEYS[1], 'state', 'answered_at')
if e[1] ~= 'connected' then return -1 end
local handle = tonumber(ARGV[2]) - tonumber(e[2])
redis.call('DEL', KEYS[1])
if redis.call('HGET', KEYS[2], 'member') == ARGV[1] then
  redis.call('HSET', KEYS[2], 'presence', 'wrap_up', 'since', ARGV[2], 'wrap_until', ARGV[3],
    'wrap_call', ARGV[1], 'wrap_started', ARGV[2], 'wrap_extended', 0, 'wrap_queue', ARGV[5])
  if ARGV[6] == '1' then redis.call('HSET', KEYS[2], 'wrap_disposition', '1')
  else redis.call('HDEL', KEYS[2], 'wrap_disposition') end
  redis.call('HDEL', KEYS[2], 'member', 'token')
end
redis.call('HINCRBY', KEYS[3], 'handled', 1)
redis.call('HINCRBY', KEYS[3], 'handle_ms', handle)
redis.call('LPUSH', KEYS[4], handle)
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[4]) - 1)
return handle
