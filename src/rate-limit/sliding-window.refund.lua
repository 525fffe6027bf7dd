-- Gives back hits charged to one bucket (SlidingWindowStore.refund), never below zero; the cached sum follows.
-- KEYS: the rule's hash. ARGV: bucket, hits.
local hits = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if hits <= 0 then return 0 end
local refunded = math.min(hits, tonumber(ARGV[2]))
if redis.call('HEXISTS', KEYS[1], '-1') == 1 then redis.call('HINCRBY', KEYS[1], '-1', -refunded) end
return redis.call('HINCRBY', KEYS[1], ARGV[1], -refunded)
