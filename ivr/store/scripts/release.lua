-- Undo a reservation (agent did not answer, bridge failed, lease expired): the caller goes back
-- with the SAME score (same priority and virtual start), the agent to ARGV[2].
-- KEYS[1] waiting zset  KEYS[2] joined zset  KEYS[3] entry hash  KEYS[4] agent hash
-- KEYS[5] reservation hash  KEYS[6] leases zset  KEYS[7..] available zsets of the agent's skills
-- ARGV[1] token  ARGV[2] agent presence after (available|break|offline; `away` instead when
-- ring_missed.lua left `away_pending`)  ARGV[3] now ms
-- ARGV[4] not_before ms to set on the entry ('' = unchanged)  ARGV[5] '1' counts a failed attempt
-- Returns {requeued 1|0, agent reset 1|0, attempts}; {-1, -1, 0} for an unknown token.
if redis.call('EXISTS', KEYS[5]) == 0 then return {-1, -1, 0} end
local member = redis.call('HGET', KEYS[5], 'member')
local agent_id = redis.call('HGET', KEYS[5], 'agent')
local requeued, reset, attempts = 0, 0, 0
local e = redis.call('HMGET', KEYS[3], 'state', 'token', 'score', 'joined_at')
if e[1] == 'reserved' and e[2] == ARGV[1] then
  redis.call('HSET', KEYS[3], 'state', 'waiting')
  redis.call('HDEL', KEYS[3], 'token', 'agent')
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], 'not_before', ARGV[4]) end
  if ARGV[5] == '1' then attempts = redis.call('HINCRBY', KEYS[3], 'attempts', 1) end
  redis.call('ZADD', KEYS[1], e[3], member)
  redis.call('ZADD', KEYS[2], e[4], member)
  requeued = 1
end
local a = redis.call('HMGET', KEYS[4], 'presence', 'token', 'idle_since', 'address', 'device')
if a[2] == ARGV[1] and a[1] == 'ringing' then
  local after = ARGV[2]
  -- ring_missed.lua reached the limit while this ring was still the agent's
  local away = redis.call('HGET', KEYS[4], 'away_pending')
  if away then
    after = 'away'
    redis.call('HSET', KEYS[4], 'reason', away)
    redis.call('HDEL', KEYS[4], 'away_pending')
  end
  redis.call('HSET', KEYS[4], 'presence', after, 'since', ARGV[3])
  redis.call('HDEL', KEYS[4], 'token', 'member')
  -- a softphone agent goes back in the index only while their device is registered
  if after == 'available' and (string.sub(a[4] or '', 1, 7) ~= 'client:' or a[5] == 'registered') then
    -- the agent never got the call: they keep their place among idle agents
    for i = 7, #KEYS do redis.call('ZADD', KEYS[i], a[3] or ARGV[3], agent_id) end
  end
  reset = 1
end
redis.call('DEL', KEYS[5])
redis.call('ZREM', KEYS[6], ARGV[1])
return {requeued, reset, attempts}
