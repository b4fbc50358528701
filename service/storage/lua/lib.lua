-- Shared by put.lua, remove.lua and query.lua: prepended to each when the
-- index loads them (Redis 6 scripts cannot share code otherwise).

-- Shard key and field of each band's bucket in `packed` (uint32 LE, one per
-- band in band order), as two lists in band order: the same as
-- service/storage/keys.py Keys.lsh(i, bucket) and layout.py band_field(i, bucket). One unpack
-- for every band (at most 255: a field holds its band in one byte, and
-- COPYDESK_BANDS is capped there), and string.format's integer conversion
-- rather than concatenating a Lua number (which formats it as a float first).
local function band_entries(prefix, shards, packed)
  local n = #packed / 4
  local keys, fields = {}, {}
  if n == 0 then return keys, fields end
  local buckets = {struct.unpack('<' .. string.rep('I4', n), packed)}
  for i = 0, n - 1 do
    local bucket = buckets[i + 1]
    keys[i + 1] = string.format('%s%d', prefix, (i * 2654435761 + bucket) % shards)
    fields[i + 1] = struct.pack('<BI4', i, bucket)
  end
  return keys, fields
end

-- Shard key and field of each passage fingerprint in `packed` (uint32 LE):
-- service/storage/keys.py Keys.fp(f) and layout.py fp_field(f) (fingerprints are uniform
-- already; f % shards is exact in Lua's doubles).
-- Unpacked 128 at a time: a long document has thousands, more than one
-- struct.unpack may return.
local function fp_entries(prefix, shards, packed)
  local n = #packed / 4
  local keys, fields = {}, {}
  for j = 0, n - 1, 128 do
    local m = math.min(128, n - j)
    local chunk = {struct.unpack('<' .. string.rep('I4', m), packed, 4 * j + 1)}
    for t = 1, m do
      local i = j + t
      keys[i] = string.format('%s%d', prefix, chunk[t] % shards)
      fields[i] = string.sub(packed, 4 * i - 3, 4 * i)
    end
  end
  return keys, fields
end

-- Append the 4-byte doc number `doc` to the list `field` of shard `key`
-- unless the list already holds `cap` entries (0: no cap). A full list is a
-- stock passage; it keeps its first carriers, and makes room again only as
-- they are removed (so the common case costs two calls, not a rewrite).
local function enlist(key, field, doc, cap)
  if redis.call('HSETNX', key, field, doc) == 1 then return end
  local v = redis.call('HGET', key, field)  -- one read gives the length and the list
  if cap > 0 and #v >= 4 * cap then return end
  redis.call('HSET', key, field, v .. doc)
end

-- Remove the 4-byte doc number `doc` from the bucket `field` of shard `key`.
local function unlist(key, field, doc)
  local v = redis.call('HGET', key, field)
  if not v then return end
  for j = 1, #v, 4 do
    if string.sub(v, j, j + 3) == doc then
      v = string.sub(v, 1, j - 1) .. string.sub(v, j + 4)
      break
    end
  end
  if #v == 0 then redis.call('HDEL', key, field) else redis.call('HSET', key, field, v) end
end
