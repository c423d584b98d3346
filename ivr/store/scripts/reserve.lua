-- Reserve one agent for one caller: both or neither. A caller is never given two agents and an
-- agent never two callers, because both must still be free when this runs.
-- KEYS[1] waiting zset  KEYS[2] joined zset  KEYS[3] entry hash  KEYS[4] agent hash
-- KEYS[5] reservation hash  KEYS[6] leases zset  KEYS[7..] available zsets of the agent's skills
-- ARGV[1] member  ARGV[2] agent id  ARGV[3] token  ARGV[4] now ms  ARGV[5] lease expiry ms
-- ARGV[6] queue  ARGV[7] kind (call|callback)  ARGV[8] oldest fresh device refresh ms
-- Returns 1 reserved; 0 the caller is no longer waiting; -1 the agent is no longer available.
if redis.call('HGET', KEYS[3], 'state') ~= 'waiting' or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
local a = redis.call('HMGET', KEYS[4], 'presence', 'address', 'device', 'device_at')
-- a softphone agent whose device is unregistered or silent since ARGV[8] (ms) is not offered
-- calls (docs/agent-floor.md, Agent state); the console's next refresh puts them back
if a[1] ~= 'available' or (string.sub(a[2] or '', 1, 7) == 'client:'
    and (a[3] ~= 'registered' or tonumber(a[4] or '0') < tonumber(ARGV[8]))) then
  for i = 7, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2]) end
  return -1
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'state', 'reserved', 'token', ARGV[3], 'agent', ARGV[2])
redis.call('HSET', KEYS[4], 'presence', 'ringing', 'since', ARGV[4], 'member', ARGV[1], 'token', ARGV[3])
for i = 7, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2]) end
redis.call('HSET', KEYS[5], 'member', ARGV[1], 'agent', ARGV[2], 'queue', ARGV[6],
  'kind', ARGV[7], 'state', 'reserved', 'created', ARGV[4])
redis.call('ZADD', KEYS[6], ARGV[5], ARGV[3])
return 1
