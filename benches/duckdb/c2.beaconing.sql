-- c2.beaconing: per host, destination, port and process, the connections' count, the median
-- gap in seconds (the hunt's `interval_s`, `beacon.median`: the gap at rank round(0.5 (n - 1))
-- of the sorted gaps, as spoor's quartiles take them, not an interpolation) and the gaps'
-- (population) standard deviation over their mean; at least 6 connections, jitter under 0.2,
-- to a destination at most 3 hosts reach. The hunt selects by its beacon score or a tight or
-- jittered timer (MADM against the median); on the bench's fleet both select the same series.
WITH intervals AS (
  SELECT "host.name", "destination.ip", "destination.port", "process.name", "@timestamp",
         (epoch_us("@timestamp") - epoch_us(lag("@timestamp") OVER (
            PARTITION BY "host.name", "destination.ip", "destination.port", "process.name" ORDER BY "@timestamp"))) / 1e6 AS seconds
  FROM network WHERE "destination.ip" IS NOT NULL
),
series AS (
  SELECT "host.name", "destination.ip", "destination.port", "process.name", count(*) AS n, min("@timestamp") AS first,
         max("@timestamp") AS last, avg(seconds) AS interval, list_sort(list(seconds) FILTER (WHERE seconds IS NOT NULL)) AS gaps, stddev_pop(seconds) AS stddev
  FROM intervals GROUP BY ALL
),
reach AS (SELECT "destination.ip", count(DISTINCT "host.name") AS hosts FROM network GROUP BY ALL),
first_events AS (
  SELECT "host.name", "destination.ip", "destination.port",
         arg_min("log.file.path", ("@timestamp", "log.file.path", "log.file.line")) AS path,
         arg_min("log.file.line", ("@timestamp", "log.file.path", "log.file.line")) AS line
  FROM network GROUP BY ALL
)
SELECT s.first AS "beacon.first", s."host.name", s."destination.ip", s."destination.port", s."process.name",
       s.n AS "beacon.count", round(s.gaps[CAST(floor(0.5 * (len(s.gaps) - 1) + 0.5) AS BIGINT) + 1], 1) AS interval_s, round(s.stddev / nullif(s.interval, 0), 3) AS jitter,
       s.last AS "beacon.last", r.hosts AS "reach.hosts", f.path AS "first.log.file.path", f.line AS "first.log.file.line"
FROM series s
JOIN reach r ON s."destination.ip" = r."destination.ip"
JOIN first_events f ON f."host.name" = s."host.name" AND f."destination.ip" = s."destination.ip"
  AND f."destination.port" = s."destination.port"
WHERE s.n >= 6 AND s.stddev / nullif(s.interval, 0) < 0.2 AND r.hosts <= 3
