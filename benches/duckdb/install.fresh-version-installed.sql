-- install.fresh-version-installed: CI fetches and installs less than 24 h after the version's
-- publish; one per job and version, the earliest.
WITH published AS (
  SELECT "@timestamp" AS published_at, concat("package.name", '@', "package.version") AS key
  FROM audit WHERE "audit.activity" = 'package_publish'
),
installs AS (
  SELECT c.*, p.published_at, concat(c."package.name", '@', c."package.version") AS key
  FROM ci c JOIN published p ON concat(c."package.name", '@', c."package.version") = p.key
  WHERE c."event.action" IN ('package_fetch', 'package_install') AND c."package.version" IS NOT NULL
    AND c."@timestamp" >= p.published_at AND c."@timestamp" - p.published_at < INTERVAL 24 HOUR
)
SELECT "@timestamp", "host.name", "ci.job.id", "package.name", "package.version", published_at AS "published.published_at",
       round((epoch_us("@timestamp") - epoch_us(published_at)) / 60e6, 0) AS age_minutes, "log.file.path", "log.file.line"
FROM installs
QUALIFY row_number() OVER (PARTITION BY "ci.job.id", key ORDER BY "@timestamp", "log.file.path", "log.file.line") = 1
