-- Record one step of a call and release its lock, atomically: a step is wholly recorded
-- (state, the answer to its request, TTLs, its outcome events) or not at all.
-- KEYS[1] call hash  KEYS[2] call responses hash  KEYS[3] call lock  KEYS[4] events stream
-- ARGV[1] ttl s  ARGV[2] lock token ('' = no lock held)  ARGV[3] step answered  ARGV[4] TwiML
-- ARGV[5] state JSON  ARGV[6] next step  ARGV[7] caller JSON  ARGV[8] number of events N
-- ARGV[9..] N times the stream entry's fields: id, kind, call, at, data
-- Returns N.
redis.call('HSET', KEYS[1], 'state', ARGV[5], 'seq', ARGV[6], 'caller', ARGV[7])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
local n = tonumber(ARGV[8])
local i = 9
for _ = 1, n do
  redis.call('XADD', KEYS[4], '*', 'id', ARGV[i], 'kind', ARGV[i + 1], 'call', ARGV[i + 2],
             'at', ARGV[i + 3], 'data', ARGV[i + 4])
  i = i + 5
end
if ARGV[2] ~= '' and redis.call('GET', KEYS[3]) == ARGV[2] then
  redis.call('DEL', KEYS[3])
end
return n
