-- c2.new-domain-after-install: a domain's first lookup in the store, on a host, within 10
-- minutes after a package install there; spoor's sequence policy written out.
WITH installs AS (
  SELECT * FROM process
  WHERE regexp_matches("process.command_line", '(?i)\b(npm|npm-cli|yarn|pnpm|bun)(\.cmd|\.exe|\.js)?"?\s+(i|install|add|ci)\b')
),
first_seen AS (SELECT "dns.question.name" AS name, min("@timestamp") AS first_lookup FROM dns GROUP BY ALL),
new_lookups AS (
  SELECT d.* FROM dns d JOIN first_seen f ON d."dns.question.name" = f.name AND d."@timestamp" = f.first_lookup
),
pairs AS (
  SELECT i."@timestamp" AS i_ts, i."host.name" AS host, i."process.command_line" AS i_cmd, i."log.file.path" AS i_path,
         i."log.file.line" AS i_line, l."@timestamp" AS l_ts, l."dns.question.name" AS l_name, l."process.name" AS l_process,
         l."log.file.path" AS l_path, l."log.file.line" AS l_line
  FROM installs i JOIN new_lookups l ON l."host.name" = i."host.name"
   AND l."@timestamp" > i."@timestamp" AND l."@timestamp" <= i."@timestamp" + INTERVAL 10 MINUTE
),
earliest AS (SELECT * FROM pairs QUALIFY row_number() OVER (PARTITION BY i_path, i_line ORDER BY l_ts, l_path, l_line) = 1),
tightest AS (
  SELECT * FROM earliest QUALIFY row_number() OVER (PARTITION BY l_path, l_line ORDER BY i_ts DESC, i_path DESC, i_line DESC) = 1
)
SELECT i_ts AS "install.@timestamp", host AS "host.name", i_cmd AS "install.process.command_line",
       l_ts AS "lookup.@timestamp", l_name AS "lookup.dns.question.name", l_process AS "lookup.process.name",
       i_path AS "install.log.file.path", i_line AS "install.log.file.line", l_path AS "lookup.log.file.path",
       l_line AS "lookup.log.file.line"
FROM tightest
