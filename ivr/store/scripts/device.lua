-- A softphone agent's device: registered, unregistered, or a refresh ('' = the console's poll,
-- which only refreshes a registered device). The per-skill "available" index holds a client
-- agent only while their device is registered (docs/agent-floor.md, Agent state); staleness
-- is checked where routing picks (routing.reachable, reserve.lua), which drops stale ones.
-- KEYS[1] agent hash  KEYS[2..] available zsets of the agent's skills
-- ARGV[1] agent id  ARGV[2] 'registered' | 'unregistered' | ''  ARGV[3] now ms
-- Returns the device state after the call ('' for an unknown agent or a refresh of nothing).
local a = redis.call('HMGET', KEYS[1], 'presence', 'device', 'idle_since')
if not a[1] then return '' end
local state = ARGV[2]
if state == '' then
  if a[2] ~= 'registered' then return a[2] or '' end
  state = 'registered'
end
redis.call('HSET', KEYS[1], 'device', state, 'device_at', ARGV[3])
if a[1] == 'available' then
  for i = 2, #KEYS do
    if state == 'registered' then redis.call('ZADD', KEYS[i], a[3] or ARGV[3], ARGV[1])
    else redis.call('ZREM', KEYS[i], ARGV[1]) end
  end
end
return state
