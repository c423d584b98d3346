-- End an agent's wrap-up (after-call work) and make them available, if it may end now.
-- KEYS[1] agent hash  KEYS[2..] available zsets of the agent's skills
-- ARGV[1] agent id  ARGV[2] now ms  ARGV[3] how: timeout | early | disposition
-- ARGV[4] slack ms (a timer firing a little early still ends it)
-- Returns {1, call, started ms, extended ms} when it ended; {0, why} otherwise, why being
-- 'not_in_wrap_up', 'disposition' (the queue requires one first) or 'not_yet' (time left).
local a = redis.call('HMGET', KEYS[1], 'presence', 'wrap_until', 'wrap_disposition',
  'wrap_call', 'wrap_started', 'wrap_extended', 'address', 'device')
if a[1] ~= 'wrap_up' then return {0, 'not_in_wrap_up'} end
if a[3] == '1' then return {0, 'disposition'} end
if ARGV[3] ~= 'early' and a[2] and tonumber(a[2]) > tonumber(ARGV[2]) + tonumber(ARGV[4]) then
  return {0, 'not_yet'}
end
redis.call('HSET', KEYS[1], 'presence', 'available', 'since', ARGV[2], 'idle_since', ARGV[2])
redis.call('HDEL', KEYS[1], 'wrap_until', 'wrap_call', 'wrap_started', 'wrap_extended',
  'wrap_queue', 'reason')
-- a softphone agent is offered calls only while their device is registered (device.lua)
if string.sub(a[7] or '', 1, 7) ~= 'client:' or a[8] == 'registered' then
  for i = 2, #KEYS do redis.call('ZADD', KEYS[i], ARGV[2], ARGV[1]) end
end
return {1, a[4] or '', a[5] or '', a[6] or '0'}
