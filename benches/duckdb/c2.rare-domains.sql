-- c2.rare-domains: registered domains resolved by at most 2 hosts, or only by CI runners, in a
-- fleet of at least 5 hosts. DuckDB has no public-suffix list: the registered domain is taken
-- as the last two labels, which equals spoor's (PSL-based) answer for the names in the
-- generated fleet, not for names under suffixes such as co.uk.
WITH runners AS (SELECT DISTINCT "host.name" AS runner FROM ci WHERE "host.name" IS NOT NULL),
lookups AS (
  SELECT d.*, coalesce(
           CASE WHEN len(string_split(d."dns.question.name", '.')) >= 2
                THEN array_to_string(string_split(d."dns.question.name", '.')[-2:], '.') END,
           d."dns.question.name") AS domain, r.runner
  FROM dns d LEFT JOIN runners r ON r.runner = d."host.name"
),
fleet AS (SELECT count(DISTINCT "host.name") AS hosts FROM dns),
by_domain AS (
  SELECT domain, count(DISTINCT "host.name") AS hosts, count(DISTINCT runner) AS runner_hosts, count(*) AS queries,
         list_sort(list_distinct(list("dns.question.name"))) AS names, min("@timestamp") AS first_seen,
         max("@timestamp") AS last_seen,
         arg_min("log.file.path", ("@timestamp", "log.file.path", "log.file.line")) AS "log.file.path",
         arg_min("log.file.line", ("@timestamp", "log.file.path", "log.file.line")) AS "log.file.line"
  FROM lookups GROUP BY domain
)
SELECT first_seen, domain, b.hosts, runner_hosts = b.hosts AS runners_only, queries, names, last_seen,
       "log.file.path", "log.file.line"
FROM by_domain b, fleet f
WHERE f.hosts >= 5 AND (b.hosts <= 2 OR runner_hosts = b.hosts)
