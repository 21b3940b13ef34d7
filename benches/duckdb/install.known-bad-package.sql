-- install.known-bad-package: package versions (or whole packages) on the IOC lists in
-- lockfiles, CI logs and command lines.
WITH bad AS (SELECT value, campaign FROM iocs WHERE type = 'package'),
locked AS (
  SELECT "@timestamp", 'lockfile' AS found_in, concat("package.name", '@', "package.version") AS spec, "host.name",
         "package.project", NULL::VARCHAR AS "ci.job.id", NULL::VARCHAR AS "process.command_line", "package.name",
         "log.file.path", "log.file.line"
  FROM package
),
installed AS (
  SELECT "@timestamp", 'ci log', concat("package.name", '@', "package.version"), "host.name", NULL, "ci.job.id",
         "process.command_line", "package.name", "log.file.path", "log.file.line"
  FROM ci
  WHERE "event.action" IN ('package_fetch', 'package_install', 'lifecycle_script') AND "package.name" IS NOT NULL
),
typed AS (
  SELECT "@timestamp", 'command line', unnest(string_split("process.command_line", ' ')), "host.name", NULL, NULL,
         "process.command_line", NULL, "log.file.path", "log.file.line"
  FROM process
  WHERE regexp_matches("process.command_line", '(?i)\b(npm|npx|yarn|pnpm|bun)(\.cmd|\.exe)?\s')
),
everything AS (SELECT * FROM locked UNION ALL SELECT * FROM installed UNION ALL SELECT * FROM typed),
named AS (SELECT * FROM locked UNION ALL SELECT * FROM installed)
SELECT e."@timestamp", e.found_in, e.spec AS package, e."host.name", e."package.project", e."ci.job.id",
       e."process.command_line", b.campaign AS "ioc.campaign", e."log.file.path", e."log.file.line"
FROM everything e JOIN bad b ON e.spec = b.value
UNION ALL
SELECT e."@timestamp", e.found_in, e.spec, e."host.name", e."package.project", e."ci.job.id",
       e."process.command_line", b.campaign, e."log.file.path", e."log.file.line"
FROM named e JOIN bad b ON e."package.name" = b.value
