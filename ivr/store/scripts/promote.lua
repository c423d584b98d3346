-- Put parked entries whose time has come back in line with their ORIGINAL place score, so a
-- callback booked for later or retried keeps the place it had.
-- KEYS[1] waiting zset  KEYS[2] parked zset  KEYS[3..] entry hashes of the members in ARGV
-- ARGV[1] '1' when the queue is open for callbacks  ARGV[2..] the members, in KEYS order
-- Returns how many went back in line. A callback due while the queue is closed is parked
-- again until it opens ('inf'); an entry that is no longer waiting is dropped from the set.
local back = 0
for i = 3, #KEYS do
  local member = ARGV[i - 1]
  local e = redis.call('HMGET', KEYS[i], 'state', 'score', 'kind')
  if redis.call('ZSCORE', KEYS[2], member) then
    if e[1] ~= 'waiting' then
      redis.call('ZREM', KEYS[2], member)
    elseif e[3] == 'callback' and ARGV[1] ~= '1' then
      redis.call('ZADD', KEYS[2], 'inf', member)
    else
      redis.call('ZREM', KEYS[2], member)
      redis.call('ZADD', KEYS[1], e[2], member)
      back = back + 1
    end
  end
end
return back
