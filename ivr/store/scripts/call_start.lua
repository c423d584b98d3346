-- Record the first step of a NEW call in one round trip, computed beforehand from this
-- process's guess of the operator flags and the caller's summary (ivr/store/call_start.py),
-- only if the guess is still true and nobody else has touched the call; else write nothing.
-- KEYS[1] call hash  KEYS[2] call responses hash  KEYS[3] call lock  KEYS[4] events stream
-- KEYS[5] operator flags hash  KEYS[6] the caller's summary hash (absent: the From is not a
-- number, so no summary is read)
-- ARGV[1..8+5N] exactly as call_commit.lua's (ARGV[2] is ''), then
-- the flags hash as guessed: F, then its F HGETALL items in order;
-- the summary as guessed: S, then its S HGETALL items in order (only with KEYS[6])
-- Returns {0}: the call has state, an answer, or a lock holder (take the locked path);
-- {1, flags, summary}: the guess was wrong, here are the hashes now (summary {} without
-- KEYS[6]); {2}: a hash could not be read, a wrong type say (take the locked path, which
-- answers as it always did); {3}: recorded.
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3]) > 0 then return {0} end
local n = tonumber(ARGV[8])
local at = 9 + 5 * n

local function same(have)
  local want = tonumber(ARGV[at])
  local ok = #have == want
  for j = 1, want do
    if not ok then break end
    ok = have[j] == ARGV[at + j]
  end
  at = at + want + 1
  return ok
end

local flags = redis.pcall('HGETALL', KEYS[5])
if flags.err then return {2} end
local summary = {}
if KEYS[6] then
  summary = redis.pcall('HGETALL', KEYS[6])
  if summary.err then return {2} end
end
local flags_same = same(flags)
if not (flags_same and (not KEYS[6] or same(summary))) then return {1, flags, summary} end

redis.call('HSET', KEYS[1], 'state', ARGV[5], 'seq', ARGV[6], 'caller', ARGV[7])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
local i = 9
for _ = 1, n do
  redis.call('XADD', KEYS[4], '*', 'id', ARGV[i], 'kind', ARGV[i + 1], 'call', ARGV[i + 2],
             'at', ARGV[i + 3], 'data', ARGV[i + 4])
  i = i + 5
end
return {3}
