-- Index one article atomically, replacing the previous version of its id.
-- KEYS[1] ids hash            KEYS[2] bytime zset
-- KEYS[3] new doc hash        KEYS[4] new signature block
-- KEYS[5] old doc hash        KEYS[6] old signature block (KEYS[3], KEYS[4] when no old)
-- KEYS[7 .. 6+nb]             LSH shard of each new band entry
-- KEYS[7+nb .. 6+nb+nob]      LSH shard of each old band entry
-- ARGV[1] article id          ARGV[2] expected current doc number ('' = absent)
-- ARGV[3] new doc number      ARGV[4] new doc number packed (uint32 LE)
-- ARGV[5] old doc number packed ('' when no old)
-- ARGV[6] signature bytes     ARGV[7] new signature offset  ARGV[8] old signature offset
-- ARGV[9] time score          ARGV[10] nb   ARGV[11] nob   ARGV[12] number of doc fields (pairs)
-- then 2*ARGV[12] doc field/value args, nb new band fields, nob old band fields,
-- and last the byte length of a full signature block.
-- Returns 'OK', or 'CONFLICT' when the id changed since the caller read it
-- (the caller re-reads and retries). Every check precedes the first write.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (cur or '') ~= ARGV[2] then return 'CONFLICT' end

local nb, nob, nf = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local fields_at = 13
local bands_at = fields_at + 2 * nf

local function remove_packed(v, packed)
  for i = 1, #v, 4 do
    if string.sub(v, i, i + 3) == packed then
      return string.sub(v, 1, i - 1) .. string.sub(v, i + 4)
    end
  end
  return v
end

if ARGV[2] ~= '' then
  local old_packed = ARGV[5]
  for j = 1, nob do
    local key, field = KEYS[6 + nb + j], ARGV[bands_at + nb + j - 1]
    local v = redis.call('HGET', key, field)
    if v then
      v = remove_packed(v, old_packed)
      if #v == 0 then redis.call('HDEL', key, field) else redis.call('HSET', key, field, v) end
    end
  end
  redis.call('DEL', KEYS[5])
  redis.call('SETRANGE', KEYS[6], tonumber(ARGV[8]), string.rep('\0', #ARGV[6]))
  redis.call('ZREM', KEYS[2], ARGV[2])
end

redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local doc = {}
for i = 0, nf - 1 do
  doc[#doc + 1] = ARGV[fields_at + 2 * i]
  doc[#doc + 1] = ARGV[fields_at + 2 * i + 1]
end
redis.call('HSET', KEYS[3], unpack(doc))
redis.call('SETRANGE', KEYS[4], tonumber(ARGV[7]), ARGV[6])
-- SETRANGE grows a string with up to 2x spare room; when a block reaches its
-- full length, copy it once into an exactly sized string.
if tonumber(ARGV[7]) + #ARGV[6] == tonumber(ARGV[#ARGV]) and redis.call('STRLEN', KEYS[4]) == tonumber(ARGV[#ARGV]) then
  redis.call('SET', KEYS[4], redis.call('GET', KEYS[4]))
end
redis.call('ZADD', KEYS[2], ARGV[9], ARGV[3])
local packed = ARGV[4]
for j = 1, nb do
  local key, field = KEYS[6 + j], ARGV[bands_at + j - 1]
  local v = redis.call('HGET', key, field)
  redis.call('HSET', key, field, (v or '') .. packed)
end
return 'OK'
