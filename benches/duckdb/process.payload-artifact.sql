-- process.payload-artifact: files written and programs started at an IOC path, ignoring case.
WITH paths AS (SELECT value, campaign FROM iocs WHERE type = 'file'),
found AS (
  SELECT "@timestamp", "host.name", "event.action", "file.path" AS path, "process.name",
         NULL::VARCHAR AS "process.command_line", "log.file.path", "log.file.line"
  FROM file
  UNION ALL
  SELECT "@timestamp", "host.name", "event.action", "process.executable", "process.name", "process.command_line",
         "log.file.path", "log.file.line"
  FROM process
)
SELECT f."@timestamp", f."host.name", f."event.action", f.path, f."process.name", f."process.command_line",
       p.campaign AS "ioc.campaign", f."log.file.path", f."log.file.line"
FROM found f JOIN paths p ON lower(f.path) = lower(p.value)
