-- Gives back the hits charged to one bucket of each rule (SlidingWindowStore.refund), never below zero; each cached
-- sum follows. KEYS: the rules' hashes. ARGV: per key, its bucket and hits.
for i, key in ipairs(KEYS) do
  local bucket = ARGV[2 * i - 1]
  local hits = tonumber(redis.call('HGET', key, bucket) or '0')
  if hits > 0 then
    local refunded = math.min(hits, tonumber(ARGV[2 * i]))
    if redis.call('HEXISTS', key, '-1') == 1 then redis.call('HINCRBY', key, '-1', -refunded) end
    redis.call('HINCRBY', key, bucket, -refunded)
  end
end
return 0
