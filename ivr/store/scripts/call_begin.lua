-- Take one call's lock for a webhook and read what its step needs, in one round trip.
-- KEYS[1] call hash  KEYS[2] call responses hash  KEYS[3] call lock
-- ARGV[1] lock token  ARGV[2] lock lease ms  ARGV[3] step whose stored answer to return
-- Returns false (nil) when another request holds the lock, else {state, seq, caller, answer};
-- a missing value is nil.
if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local call = redis.call('HMGET', KEYS[1], 'state', 'seq', 'caller')
return {call[1], call[2], call[3], redis.call('HGET', KEYS[2], ARGV[3])}
