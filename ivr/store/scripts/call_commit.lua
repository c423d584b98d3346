-- Record one step of a call and release its lock, atomically: a step is wholly recorded
-- (state, the answer to its request, TTLs, its outcome events) or not at all.
-- KEYS[1] call hash  KEYS[2] call responses hash  KEYS[3] call lock  KEYS[4] events stream
-- ARGV[1] ttl s  ARGV[2] lock token, or '' for a step computed without the lock from this
-- process's own last write (CallStateStore.commit_if_current): then it is recorded only if the
-- call is still at step ARGV[3], unanswered, and nobody holds its lock
-- ARGV[3] step answered  ARGV[4] TwiML
-- ARGV[5] state JSON  ARGV[6] next step  ARGV[7] caller JSON  ARGV[8] number of events N
-- ARGV[9..] N times the stream entry's fields: id, kind, call, at, data
-- Returns N, or -1 when a step without the lock was not recorded.
if ARGV[2] == '' then
  if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('HGET', KEYS[1], 'seq') ~= ARGV[3]
      or redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then
    return -1
  end
end
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
