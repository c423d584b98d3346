-- Fold a queue's pending hold-statistics events into its statistics (ivr/store/hold_stats.py).
-- KEYS[1] hold-stats hash (`stats` JSON, `folded` events folded so far)  KEYS[2] events list
-- ARGV[1] `folded` when the events were read  ARGV[2] how many were folded (the list's head)
-- ARGV[3] the statistics with them applied (JSON)
-- Returns 1 when written; 0 when another process folded first (it folded the same head, in
-- the same order, so nothing is lost and nobody retries). `folded` only grows, so a fold
-- that left the statistics byte for byte the same cannot be mistaken for no fold.
local folded = tonumber(redis.call('HGET', KEYS[1], 'folded') or '0')
if folded ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'stats', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'folded', ARGV[2])
redis.call('LTRIM', KEYS[2], tonumber(ARGV[2]), -1)
return 1
