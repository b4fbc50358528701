-- Candidates of one query, and (optionally) what verifying them needs: one round trip.
-- (lib.lua is prepended: band_entries, fp_entries.)
-- KEYS[1]        the index's ids hash (names the slot; the LSH shards and docs share it)
-- ARGV[1]        doc key prefix ("{cd:<index>}:doc:")
-- ARGV[2]        how many candidates to return, most shared bands first (0 = all)
-- ARGV[3]        doc numbers to leave out, packed uint32 LE ('' = none)
-- ARGV[4]        '1' to return each candidate's doc fields, '0' for numbers and counts only
-- ARGV[5]        LSH key prefix   ARGV[6] number of LSH shards
-- ARGV[7]        the query's band buckets, packed uint32 LE, in band order (as in put.lua)
-- ARGV[8]        most entries read of one bucket, its newest (0 = all)
-- ARGV[9]        fingerprint key prefix   ARGV[10] number of fp shards
-- ARGV[11]       the query's passage fingerprints, packed uint32 LE ('' = none)
-- ARGV[12]       how many more candidates to return by shared fingerprints,
--                most shared first, beyond those chosen by bands (0 = all)
-- ARGV[13]       carriers of a full fingerprint list (FINGERPRINT_CAP; 0 = no cap):
--                a full list is a stock passage, and offers no candidates
-- ARGV[14]       at most how many of those may share a single fingerprint
--                (MAX_SINGLE_FINGERPRINT_CANDIDATES; with ARGV[12] = 0, no limit)
-- Returns one flat list: per candidate, doc number packed, shared bands,
-- shared fingerprints, then (only with ARGV[4] == '1') id, title, source,
-- published_at, sh, nq (a deleted doc has a nil id).
-- Doc numbers are handled as Lua numbers (read up to 32 per struct.unpack), so
-- that ties between candidates can go to the newest article.
local excluded = {}
for j = 1, #ARGV[3], 4 do excluded[struct.unpack('<I4', ARGV[3], j)] = true end
local formats = {}
for m = 1, 32 do formats[m] = '<' .. string.rep('I4', m) end

-- Read every entry of the buckets (`keys`, `fields`), but at most the newest
-- `cap` of each, and count how many buckets list each doc number in `counts`
-- (new numbers are appended to `found`).
-- A bucket that thousands of articles share (a stock passage a whole topic
-- carries) says little about any one of them, and reading it all was the
-- tail of a query at a million articles: only its newest entries count
-- (entries are appended, so they are the bucket's last bytes).
-- A bucket of `full` entries or more (0: none is) is left out entirely.
-- With a `scores` table, each listed number also scores the bucket's weight
-- there: 7 for a bucket of one entry, one less each time the size doubles
-- (an inverse document frequency: a fingerprint two articles share says more
-- than one thirty share).
local function count(keys, fields, cap, counts, found, full, scores)
  for i = 1, #keys do
    local v = redis.call('HGET', keys[i], fields[i])
    if v and (full == 0 or #v < 4 * full) then
      local size = #v / 4
      local weight = 0
      if scores then weight = math.max(1, 7 - math.floor(math.log(size) / math.log(2))) end
      local first = 0
      if cap > 0 and size > cap then first = size - cap end
      for j = first, size - 1, 32 do
        local m = math.min(32, size - j)
        local chunk = {struct.unpack(formats[m], v, 4 * j + 1)}
        for t = 1, m do
          local n = chunk[t]
          if not excluded[n] then
            local c = counts[n]
            if c == nil then
              counts[n] = 1
              found[#found + 1] = n
            else
              counts[n] = c + 1
            end
            if scores then scores[n] = (scores[n] or 0) + weight end
          end
        end
      end
    end
  end
end

-- Append to `chosen` (and mark in `taken`) up to `limit` numbers of `found`
-- not taken yet, the highest count first, ties to the newest (the highest
-- doc number). Counts run from 1 to the number of buckets, so candidates are
-- grouped by count, not sorted with a Lua comparator: a query can meet
-- hundreds of one-band candidates (a stock passage a whole topic shares).
local function choose(found, counts, limit, chosen, taken)
  local by_count, most = {}, 0
  for _, n in ipairs(found) do
    if not taken[n] then
      local c = counts[n]
      local group = by_count[c]
      if group == nil then
        group = {}
        by_count[c] = group
      end
      group[#group + 1] = n
      if c > most then most = c end
    end
  end
  local added = 0
  if limit == 0 then limit = #found end
  for c = most, 1, -1 do
    if added >= limit then break end
    local group = by_count[c]
    if group then
      table.sort(group)  -- numbers: no Lua comparator; taken from the end, newest first
      for g = #group, 1, -1 do
        if added >= limit then break end
        chosen[#chosen + 1] = group[g]
        taken[group[g]] = true
        added = added + 1
      end
    end
  end
end

local cap = tonumber(ARGV[8])
local keys, fields = band_entries(ARGV[5], tonumber(ARGV[6]), ARGV[7])
local counts, found = {}, {}
count(keys, fields, cap, counts, found, 0)
keys, fields = fp_entries(ARGV[9], tonumber(ARGV[10]), ARGV[11])
local fp_counts, fp_found, fp_scores = {}, {}, {}
-- A fingerprint list holds at most FINGERPRINT_CAP carriers (put.lua). A full
-- one is a stock passage (boilerplate, a quotation every story runs): the
-- carriers it kept are its first ones, not this query's sources, so it offers
-- none (as in the batch job, shingling.families). Of the others a query reads
-- the newest 16 (docs/matching.md).
count(keys, fields, 16, fp_counts, fp_found, tonumber(ARGV[13]), fp_scores)

local chosen, taken = {}, {}
choose(found, counts, tonumber(ARGV[2]), chosen, taken)
-- Passage candidates go by weighted score: a rare shared fingerprint outranks
-- a phrase many articles carry (a long text meets many of those). Those that
-- share one fingerprint alone (most often the edge of a stock paragraph, or a
-- chance 5-word phrase) take at most ARGV[14] of the places left.
local strong, weak = {}, {}
for _, n in ipairs(fp_found) do
  if fp_counts[n] >= 2 then strong[#strong + 1] = n else weak[#weak + 1] = n end
end
local fp_limit, singles = tonumber(ARGV[12]), tonumber(ARGV[14])
local before = #chosen
choose(strong, fp_scores, fp_limit, chosen, taken)
if fp_limit == 0 then  -- every candidate
  choose(weak, fp_scores, 0, chosen, taken)
else
  singles = math.min(singles, fp_limit - (#chosen - before))
  if singles > 0 then choose(weak, fp_scores, singles, chosen, taken) end
end
found = chosen
local limit = #chosen
-- One flat list, not a list of rows: Redis 6.2 (the embedded server) writes a
-- nested reply to the socket one row at a time (each row is a separate reply
-- node, and it has no writev), and the client wakes for every write: ~50
-- writes per query were half the script's time as the client saw it.
local with_docs = ARGV[4] == '1'
local out, o = {}, 0
for k = 1, limit do
  local n = found[k]
  out[o + 1] = struct.pack('<I4', n)
  out[o + 2] = counts[n] or 0
  out[o + 3] = fp_counts[n] or 0
  o = o + 3
  if with_docs then
    local key = ARGV[1] .. string.format('%d', n)
    local doc = redis.call('HMGET', key, 'id', 'title', 'source', 'published_at', 'sh', 'nq')
    for f = 1, 6 do out[o + f] = doc[f] end  -- a missing field is false, not a hole
    o = o + 6
  end
end
return out
