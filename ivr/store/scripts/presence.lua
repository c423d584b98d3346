-- Change an agent's presence and keep the per-skill "available" indexes in step.
-- KEYS[1] agent hash  KEYS[2..] available zsets of the agent's skills
-- ARGV[1] agent id  ARGV[2] new presence  ARGV[3] now ms
-- ARGV[4] comma-separated presences the change is allowed from ('' = any)
-- Returns {previous presence, changed 1|0}; previous '' for an unknown agent.
local old = redis.call('HGET', KEYS[1], 'presence')
if not old then return {'', 0} end
if ARGV[4] ~= '' and not string.find(',' .. ARGV[4] .. ',', ',' .. old .. ',', 1, true) then
  return {old, 0}
end
if old ~= ARGV[2] then
  redis.call('HSET', KEYS[1], 'presence', ARGV[2], 'since', ARGV[3])
  -- the reason belongs to the state the system set (away: "missed 2 calls"); leaving away
  -- by hand starts a new count of missed rings
  redis.call('HDEL', KEYS[1], 'reason')
  if old == 'away' then redis.call('HDEL', KEYS[1], 'missed') end
end
-- a softphone agent is offered calls only while their device is registered (device.lua)
local dev = redis.call('HMGET', KEYS[1], 'address', 'device')
local reachable = string.sub(dev[1] or '', 1, 7) ~= 'client:' or dev[2] == 'registered'
if ARGV[2] == 'available' then
  if old ~= 'available' then redis.call('HSET', KEYS[1], 'idle_since', ARGV[3]) end
  local idle = redis.call('HGET', KEYS[1], 'idle_since')
  for i = 2, #KEYS do
    if reachable then redis.call('ZADD', KEYS[i], idle, ARGV[1])
    else redis.call('ZREM', KEYS[i], ARGV[1]) end
  end
else
  for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
end
if ARGV[2] ~= 'wrap_up' then redis.call('HDEL', KEYS[1], 'wrap_until') end
return {old, 1}
