-- A caller or callback leaves the line (hung up, left, moved to voicemail, callback given up).
-- KEYS[1] waiting zset  KEYS[2] joined zset  KEYS[3] entry hash  KEYS[4] stats hash
-- KEYS[5] callback numbers hash of the queue  KEYS[6] parked zset (park.lua)
-- ARGV[1] member  ARGV[2] now ms  ARGV[3] counter to bump ('abandoned', 'overflowed', '' none)
-- ARGV[4] '1' also drop an entry that is reserved (the caller hung up while an agent rang)
-- Returns {state before, wait ms, token}; state '' when the member was unknown. A connected
-- entry is left alone (the call-ended path closes it), as is a reserved one unless ARGV[4].
local e = redis.call('HMGET', KEYS[3], 'state', 'joined_at', 'token', 'number', 'callback')
if not e[1] then return {'', 0, ''} end
if e[1] == 'connected' or (e[1] == 'reserved' and ARGV[4] ~= '1') then return {e[1], 0, ''} end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('DEL', KEYS[3])
if e[4] and e[5] and redis.call('HGET', KEYS[5], e[4]) == e[5] then
  redis.call('HDEL', KEYS[5], e[4])
end
local wait = tonumber(ARGV[2]) - tonumber(e[2])
if ARGV[3] ~= '' then
  redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
  redis.call('HINCRBY', KEYS[4], ARGV[3] .. '_wait_ms', wait)
end
return {e[1], wait, e[3] or ''}
