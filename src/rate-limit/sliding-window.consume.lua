-- Sliding-window limits (SlidingWindowStore.consume): checks every rule and, only if none is exceeded, charges all of
-- them, atomically, so concurrent requests on any number of API replicas never overshoot a limit and a refused
-- request costs nothing.
-- Each rule is a hash of bucket index -> hits; buckets older than the window are dropped as they are read. The hash
-- also caches the sum ('-1'), the bucket it was summed in ('-2') and the oldest live bucket ('-3'), so only the first
-- call in a new bucket reads every bucket. The cache fields are negative so that a script that does not know them
-- drops them as expired buckets, which makes the next call recount.
-- Two tiers: the first `leading` rules are decided and charged on their own, and answer in order (the first exceeded
-- one); the others are all-or-nothing after them and answer with the latest retry time.
-- KEYS: one hash per rule. ARGV: now (ms), leading, buckets per window, then per rule: limit (0 = count only),
-- bucket size (ms), cost (0 = read only, negative = check only: refuse as the rule would but charge nothing).
-- Returns per rule {hits after the call, when the oldest counted hit leaves the window, earliest time this request
-- would fit (if exceeded)}, then the index of the exceeded rule that decided the call (0 = none).
local now, leading, buckets = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local denied, deniedAt = { 0, 0 }, { 0, 0 }
for i = 1, #KEYS do
  local o = 3 + (i - 1) * 3
  local limit, size, cost = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), math.abs(tonumber(ARGV[o + 3]))
  local current = math.floor(now / size)
  local cached = redis.call('HMGET', KEYS[i], '-1', '-2', '-3')
  local total, oldest
  if tonumber(cached[2]) == current then
    total, oldest = tonumber(cached[1]), tonumber(cached[3])
  else
    total, oldest = 0, current
    local raw = redis.call('HGETALL', KEYS[i])
    for j = 1, #raw, 2 do
      local b = tonumber(raw[j])
      if b < 0 then -- a cache field
      elseif b <= current - buckets then
        redis.call('HDEL', KEYS[i], raw[j])
      else
        total = total + tonumber(raw[j + 1])
        if b < oldest then oldest = b end
      end
    end
    -- Only a key that still counts hits keeps the cache (HSET keeps its TTL; an empty key is not created).
    if total > 0 then
      redis.call('HSET', KEYS[i], '-1', total, '-2', current, '-3', oldest)
    elseif #raw > 0 then
      redis.call('DEL', KEYS[i])
    end
  end
  local reset = (oldest + buckets) * size
  local retry = 0
  if limit > 0 and cost > 0 and total + cost > limit then
    -- Only a refusal needs the buckets in order: oldest first until enough hits leave for this request to fit.
    local raw, live = redis.call('HGETALL', KEYS[i]), {}
    for j = 1, #raw, 2 do
      local b = tonumber(raw[j])
      if b > current - buckets then live[#live + 1] = { b, tonumber(raw[j + 1]) } end
    end
    table.sort(live, function(a, b) return a[1] < b[1] end)
    local need, freed = total + cost - limit, 0
    retry = (current + buckets) * size
    for _, entry in ipairs(live) do
      freed = freed + entry[2]
      if freed >= need then retry = (entry[1] + buckets) * size break end
    end
    if i <= leading then
      if denied[1] == 0 then denied[1], deniedAt[1] = i, retry end
    elseif retry > deniedAt[2] then
      denied[2], deniedAt[2] = i, retry
    end
  end
  out[#out + 1] = { total, reset, retry }
end
local function charge(from, to)
  for i = from, to do
    local o = 3 + (i - 1) * 3
    local size, cost = tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3])
    if cost > 0 then
      redis.call('HINCRBY', KEYS[i], string.format('%d', math.floor(now / size)), cost)
      redis.call('HINCRBY', KEYS[i], '-1', cost)
      redis.call('PEXPIRE', KEYS[i], size * (buckets + 1))
      out[i][1] = out[i][1] + cost
    end
  end
end
if denied[1] ~= 0 then
  out[#out + 1] = denied[1]
else
  charge(1, leading)
  if denied[2] == 0 then charge(leading + 1, #KEYS) end
  out[#out + 1] = denied[2]
end
return out
