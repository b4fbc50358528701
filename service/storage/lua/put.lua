-- Index one article atomically, replacing the previous version of its id.
-- (lib.lua is prepended: band_entries, fp_entries, enlist, unlist.)
-- KEYS[1] ids hash            KEYS[2] bytime zset
-- KEYS[3] new doc hash        KEYS[4] new signature block
-- KEYS[5] old doc hash        KEYS[6] old signature block (KEYS[3], KEYS[4] when no old)
-- ARGV[1] article id          ARGV[2] expected current doc number ('' = absent)
-- ARGV[3] new doc number      ARGV[4] new doc number packed (uint32 LE)
-- ARGV[5] old doc number packed ('' when no old)
-- ARGV[6] signature bytes     ARGV[7] new signature offset  ARGV[8] old signature offset
-- ARGV[9] time score          ARGV[10] byte length of a full signature block
-- ARGV[11] LSH key prefix ("{cd:<index>}:lsh:")   ARGV[12] number of LSH shards
-- ARGV[13] new band buckets, packed uint32 LE, one per band in band order
-- ARGV[14] old band buckets, the same ('' when no old)
-- ARGV[15] fingerprint key prefix ("{cd:<index>}:fp:")   ARGV[16] number of fp shards
-- ARGV[17] the new passage fingerprints, packed uint32 LE (the doc's 'fp' field)
-- ARGV[18] most entries a fingerprint's list holds (service/storage/keys.py FINGERPRINT_CAP)
-- ARGV[19 ..] doc field/value pairs (with 'fp', the fingerprints packed)
-- Each fingerprint's shard and field are service/storage/keys.py Keys.fp(f)
-- and layout.py fp_field(f), computed here (fp_entries), as the bands' are:
-- sent as ~135 keys and ~135 fields an article, they cost the client 0.22 ms
-- of packing an article, more than the analysis (docs/benchmarks.md). The
-- old version's fingerprints are read from its own doc hash ('fp').
-- The LSH shard and field of band i, bucket k are service/storage/keys.py's
-- Keys.lsh(i, k) and layout.py band_field(i, k), computed here from the packed buckets
-- (the LSH and fp shards share the index's hash tag, so they live in KEYS[1]'s slot).
-- Returns 'OK', or 'CONFLICT' when the id changed since the caller read it
-- (the caller re-reads and retries). Every check precedes the first write.
if #KEYS ~= 6 or #ARGV < 20 or (#ARGV - 18) % 2 ~= 0 or #ARGV[13] % 4 ~= 0
    or #ARGV[14] % 4 ~= 0 or #ARGV[17] % 4 ~= 0 then
  return redis.error_reply('put.lua: malformed call (see the KEYS/ARGV list in its header)')
end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (cur or '') ~= ARGV[2] then return 'CONFLICT' end

local prefix, shards = ARGV[11], tonumber(ARGV[12])
local fp_prefix, fp_shards = ARGV[15], tonumber(ARGV[16])

if ARGV[2] ~= '' then
  local keys, fields = band_entries(prefix, shards, ARGV[14])
  for i = 1, #keys do unlist(keys[i], fields[i], ARGV[5]) end
  keys, fields = fp_entries(fp_prefix, fp_shards, redis.call('HGET', KEYS[5], 'fp') or '')
  for i = 1, #keys do unlist(keys[i], fields[i], ARGV[5]) end
  redis.call('DEL', KEYS[5])
  redis.call('SETRANGE', KEYS[6], tonumber(ARGV[8]), string.rep('\0', #ARGV[6]))
  redis.call('ZREM', KEYS[2], ARGV[2])
end

redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local doc = {}
for i = 19, #ARGV do doc[#doc + 1] = ARGV[i] end
redis.call('HSET', KEYS[3], unpack(doc))
redis.call('SETRANGE', KEYS[4], tonumber(ARGV[7]), ARGV[6])
-- SETRANGE grows a string with up to 2x spare room; when a block reaches its
-- full length, copy it once into an exactly sized string.
local full = tonumber(ARGV[10])
if tonumber(ARGV[7]) + #ARGV[6] == full and redis.call('STRLEN', KEYS[4]) == full then
  redis.call('SET', KEYS[4], redis.call('GET', KEYS[4]))
end
redis.call('ZADD', KEYS[2], ARGV[9], ARGV[3])
local packed = ARGV[4]
-- Most buckets are new (a band of an unrelated article collides once in 2^32):
-- HSETNX creates those in one call; a shared bucket is read and extended.
local keys, fields = band_entries(prefix, shards, ARGV[13])
for i = 1, #keys do
  local key, field = keys[i], fields[i]
  if redis.call('HSETNX', key, field, packed) == 0 then
    redis.call('HSET', key, field, redis.call('HGET', key, field) .. packed)
  end
end
local cap = tonumber(ARGV[18])
keys, fields = fp_entries(fp_prefix, fp_shards, ARGV[17])
for i = 1, #keys do enlist(keys[i], fields[i], packed, cap) end
return 'OK'
