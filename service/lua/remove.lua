-- Remove one article and every trace of it, atomically.
-- KEYS[1] ids hash   KEYS[2] bytime zset   KEYS[3] doc hash   KEYS[4] signature block
-- KEYS[5 .. 4+nb]    LSH shard of each band entry
-- ARGV[1] article id   ARGV[2] expected doc number   ARGV[3] doc number packed (uint32 LE)
-- ARGV[4] signature offset   ARGV[5] signature length in bytes   ARGV[6] nb
-- ARGV[7 .. 6+nb] band fields
-- Returns 'OK', 'MISSING' (id not indexed) or 'CONFLICT' (changed since read).
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 'MISSING' end
if cur ~= ARGV[2] then return 'CONFLICT' end
local packed = ARGV[3]
for j = 1, tonumber(ARGV[6]) do
  local key, field = KEYS[4 + j], ARGV[6 + j]
  local v = redis.call('HGET', key, field)
  if v then
    for i = 1, #v, 4 do
      if string.sub(v, i, i + 3) == packed then
        v = string.sub(v, 1, i - 1) .. string.sub(v, i + 4)
        break
      end
    end
    if #v == 0 then redis.call('HDEL', key, field) else redis.call('HSET', key, field, v) end
  end
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('SETRANGE', KEYS[4], tonumber(ARGV[4]), string.rep('\0', tonumber(ARGV[5])))
redis.call('ZREM', KEYS[2], ARGV[2])
return 'OK'
