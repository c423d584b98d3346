-- The status callback's first read, and for most calls its only write, in one round trip.
-- A call that never joined a queue (a self-service call, most of them) gets its call_ended
-- event appended here; a call that did returns its queue facts instead, so the caller
-- settles the queue first (an abandon, or the end of a connected call) and publishes after.
-- KEYS[1] call hash  KEYS[2] events stream
-- ARGV[1..5] the call_ended entry's fields: id, kind, call, at, data  ARGV[6..] hash fields
-- Returns false when the event was appended, else the values of ARGV[6..] (queue first).
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
local visit = redis.call('HMGET', KEYS[1], unpack(fields))
if visit[1] and visit[1] ~= '' then return visit end
redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'kind', ARGV[2], 'call', ARGV[3],
           'at', ARGV[4], 'data', ARGV[5])
return false
