-- The agent and the caller are talking: record the answered wait, close the reservation.
-- KEYS[1] entry hash  KEYS[2] agent hash  KEYS[3] reservation hash  KEYS[4] leases zset
-- KEYS[5] stats hash  KEYS[6] recent waits list  KEYS[7] callback numbers hash of the queue
-- ARGV[1] token  ARGV[2] now ms  ARGV[3] recent list cap  ARGV[4] callback id ('' for a call)
-- Returns the answered wait in ms, or -1 when the token is unknown or stale.
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
local e = redis.call('HMGET', KEYS[1], 'token', 'joined_at', 'number')
if e[1] ~= ARGV[1] then return -1 end
local wait = tonumber(ARGV[2]) - tonumber(e[2])
redis.call('HSET', KEYS[1], 'state', 'connected', 'answered_at', ARGV[2])
redis.call('HSET', KEYS[2], 'presence', 'on_call', 'since', ARGV[2])
-- an answered ring ends a run of missed ones (ring_missed.lua)
redis.call('HDEL', KEYS[2], 'missed', 'away_pending')
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HINCRBY', KEYS[5], 'answered', 1)
redis.call('HINCRBY', KEYS[5], 'answered_wait_ms', wait)
redis.call('LPUSH', KEYS[6], wait)
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[3]) - 1)
if e[3] and ARGV[4] ~= '' and redis.call('HGET', KEYS[7], e[3]) == ARGV[4] then
  redis.call('HDEL', KEYS[7], e[3])
end
return wait
