-- An agent let a ring go unanswered: count it; at the limit the agent goes `away`.
-- KEYS[1] agent hash  KEYS[2..] available zsets of the agent's skills
-- ARGV[1] agent id  ARGV[2] now ms  ARGV[3] misses in a row that make the agent away
-- ARGV[4] the reason shown ("missed 2 calls"; '%d' is replaced by the count)
-- Returns {misses in a row, 1 when the agent is now away (or will be when the ring that is
-- still theirs ends: `away_pending`, applied by release.lua), else 0}; {-1, 0} unknown agent.
local p = redis.call('HGET', KEYS[1], 'presence')
if not p then return {-1, 0} end
local missed = redis.call('HINCRBY', KEYS[1], 'missed', 1)
if missed < tonumber(ARGV[3]) then return {missed, 0} end
local reason = string.gsub(ARGV[4], '%%d', tostring(missed))
if p == 'ringing' then
  -- the missed ring's reservation is not released yet (or a new ring began): the release
  -- turns the agent away instead of back to available
  redis.call('HSET', KEYS[1], 'away_pending', reason)
  return {missed, 1}
end
if p == 'on_call' then return {missed, 0} end
if p ~= 'away' then redis.call('HSET', KEYS[1], 'presence', 'away', 'since', ARGV[2]) end
redis.call('HSET', KEYS[1], 'reason', reason)
redis.call('HDEL', KEYS[1], 'wrap_until', 'away_pending')
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return {missed, 1}
