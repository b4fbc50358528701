-- Shared by put.lua, remove.lua and query.lua: prepended to each when the
-- index loads them (Redis 6 scripts cannot share code otherwise).

-- Shard key and field of band i (from 0) whose bucket is the i-th uint32 of
-- `packed`: the same as service/keys.py Keys.lsh(i, bucket) and band_field.
local function band_entry(prefix, shards, packed, i)
  local bucket = struct.unpack('<I4', packed, 4 * i + 1)
  return prefix .. ((i * 2654435761 + bucket) % shards), struct.pack('<BI4', i, bucket)
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
