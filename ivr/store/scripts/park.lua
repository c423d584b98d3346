-- Set aside entries that may not be routed yet (not_before in the future, or a callback while
-- the queue is closed) so they do not block the callers behind them. Their place score stays
-- in the entry hash; promote.lua puts them back with it.
-- KEYS[1] waiting zset  KEYS[2] parked zset
-- ARGV pairs: member, ms from which it is looked at again ('inf' = when the queue opens)
-- Returns how many were parked. One that left the line (reserved, hung up) meanwhile is
-- skipped: only a member still in the waiting zset moves.
local parked = 0
for i = 1, #ARGV, 2 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
    parked = parked + 1
  end
end
return parked
