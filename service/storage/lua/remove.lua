-- Remove one article and every trace of it, atomically.
-- (lib.lua is prepended: band_entries, fp_entries, unlist.)
-- KEYS[1] ids hash   KEYS[2] bytime zset   KEYS[3] doc hash   KEYS[4] signature block
-- ARGV[1] article id   ARGV[2] expected doc number   ARGV[3] doc number packed (uint32 LE)
-- ARGV[4] signature offset   ARGV[5] signature length in bytes
-- ARGV[6] LSH key prefix   ARGV[7] number of LSH shards
-- ARGV[8] band buckets, packed uint32 LE, one per band in band order
-- ARGV[9] fingerprint key prefix   ARGV[10] number of fp shards
-- (the doc's fingerprints are read from its own hash, field 'fp')
-- (shards and fields as in put.lua).
-- Returns 'OK', 'MISSING' (id not indexed) or 'CONFLICT' (changed since read).
if #KEYS ~= 4 or #ARGV ~= 10 or #ARGV[8] % 4 ~= 0 then
  return redis.error_reply('remove.lua: malformed call (see the KEYS/ARGV list in its header)')
end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 'MISSING' end
if cur ~= ARGV[2] then return 'CONFLICT' end
local keys, fields = band_entries(ARGV[6], tonumber(ARGV[7]), ARGV[8])
for i = 1, #keys do unlist(keys[i], fields[i], ARGV[3]) end
keys, fields = fp_entries(ARGV[9], tonumber(ARGV[10]), redis.call('HGET', KEYS[3], 'fp') or '')
for i = 1, #keys do unlist(keys[i], fields[i], ARGV[3]) end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('SETRANGE', KEYS[4], tonumber(ARGV[4]), string.rep('\0', tonumber(ARGV[5])))
redis.call('ZREM', KEYS[2], ARGV[2])
return 'OK'
