-- Backoff gate (SlidingWindowStore.claimGate): one attempt at a time may pass a gate that is open, and closes it until
-- `until`; an attempt that finds it closed is refused. Atomic, so concurrent attempts on any number of replicas
-- cannot pass the same opening.
-- KEYS: the gate. ARGV: now (ms), until (ms). Returns 0 when claimed, else the time the gate opens (ms).
local now, untilMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local closed = tonumber(redis.call('GET', KEYS[1]) or '0')
if closed > now then return closed end
redis.call('SET', KEYS[1], untilMs, 'PX', math.max(1, untilMs - now))
return 0
