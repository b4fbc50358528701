"""The matching limits, in one room (as ``rq/defaults.py``).

The ``DEFAULT_`` four are what a setting takes when unset (``service.settings``
names their environment variables); the last two are fixed limits of the
index's query.
"""

#: Candidates verified per query, most shared bands first. A true syndicated
#: pair shares several bands (J = 0.2 gives 2.6 on average), while same-topic
#: articles sharing a stock passage share one: the tail holds those.
DEFAULT_MAX_CANDIDATES = 50
#: Entries a query reads of one LSH bucket, the newest. Buckets are small (at a
#: million MRPC-built articles: 2 entries at the median, 16 at p99) except
#: a few that a stock passage fills with a thousand or more: reading those
#: whole was the query's p99 (docs/benchmarks.md). 64, as the clustering job's
#: ``ClusterParams.max_bucket``: against 128, -0.5 ms at p99 at a million, the
#: same recall, 0.01 fewer partial matches per query.
DEFAULT_MAX_BUCKET = 64
#: Candidates verified per query beyond the LSH ones, by shared passage
#: fingerprints, most shared first: what finds a passage reused inside a longer
#: text, whose Jaccard is too low for the bands (docs/matching.md).
DEFAULT_MAX_PASSAGE_CANDIDATES = 50
#: Matches a query with ``rewritten=true`` has the sentence aligner judge
#: (``service.storage.query.rewrite_order``): one alignment of two 1,000-word
#: articles costs ~130 ms lexical, ~210 ms semantic (docs/quality.md), so five
#: add about a second at most to such a query.
DEFAULT_REWRITE_PAIRS = 5
#: Of those passage candidates, at most this many may share one fingerprint
#: alone (most often the edge of a stock paragraph, whose lists stay short, or
#: a chance phrase): candidates go by weighted shared fingerprints, a rare one
#: counting more (lua/query.lua). On the PAN tuning fold 20 lost nothing
#: against no limit, 10 lost 0.007 of random-obfuscation recall, and none
#: (two shared fingerprints needed) 0.047 of summary recall (docs/matching.md).
MAX_SINGLE_FINGERPRINT_CANDIDATES = 20
#: Matches of a query whose shared passages are located (offsets, shares), the
#: best first (``COPYDESK_MAX_LOCATED``): locating fetches and re-tokenises each
#: match's text (~0.3 ms a match at 100k articles, docs/benchmarks.md). Matches past it
#: carry no passages and shares of 0.
MAX_LOCATED = 10
