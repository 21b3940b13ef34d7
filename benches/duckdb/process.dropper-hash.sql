-- process.dropper-hash: files and programs whose SHA-256 (else MD5) is on the IOC lists.
WITH hashes AS (SELECT value, campaign, reference FROM iocs WHERE type IN ('sha256', 'md5')),
found AS (
  SELECT "@timestamp", "host.name", "event.action", "file.path" AS path,
         coalesce("file.hash.sha256", "file.hash.md5") AS hash, "process.name",
         NULL::VARCHAR AS "process.command_line", "log.file.path", "log.file.line"
  FROM file
  UNION ALL
  SELECT "@timestamp", "host.name", "event.action", "process.executable",
         coalesce("process.hash.sha256", "process.hash.md5"), "process.name", "process.command_line",
         "log.file.path", "log.file.line"
  FROM process
)
SELECT f."@timestamp", f."host.name", f."event.action", f.path, f.hash, f."process.name", f."process.command_line",
       h.campaign AS "ioc.campaign", h.reference AS "ioc.reference", f."log.file.path", f."log.file.line"
FROM found f JOIN hashes h ON f.hash = h.value
