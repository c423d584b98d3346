-- Count one callback against the daily quota of every number in it, or refuse it whole.
-- KEYS[1..n] one sorted set per number (ivr/store/keys.py callback_quota): token -> ms
-- ARGV[1] now ms  ARGV[2] window ms (24 h)  ARGV[3] limit per number  ARGV[4] token
-- Returns 0 when counted (the token added to every key, each key expiring after the window),
-- else the 1-based index of the first key already at its limit (nothing is written then).
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
end
return 0
