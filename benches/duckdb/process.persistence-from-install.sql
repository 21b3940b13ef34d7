-- process.persistence-from-install: persistence files, Run keys and commands by any descendant
-- of a package install.
WITH found AS (
  SELECT "@timestamp", "host.name", 'file' AS what, "file.path" AS target, "process.name", "process.entity_id",
         "log.file.path", "log.file.line"
  FROM file
  WHERE "event.action" IN ('creation', 'modification', 'rename')
    AND regexp_matches("file.path", '(?i)(^/etc/cron|/var/spool/cron/|/etc/systemd/system/|/\.config/systemd/user/|/Library/LaunchAgents/|/Library/LaunchDaemons/|\\Start Menu\\Programs\\Startup\\|\\System32\\Tasks\\)')
  UNION ALL
  SELECT "@timestamp", "host.name", 'registry', concat("registry.path", ' = ', "registry.data.strings"), "process.name",
         "process.entity_id", "log.file.path", "log.file.line"
  FROM registry
  WHERE "event.action" = 'value_set' AND regexp_matches("registry.path", '(?i)\\CurrentVersion\\(Run|RunOnce|RunServices)\\')
  UNION ALL
  SELECT "@timestamp", "host.name", 'command', "process.command_line", "process.name", "process.entity_id",
         "log.file.path", "log.file.line"
  FROM process
  WHERE regexp_matches("process.command_line", '(?i)(\bcrontab\b|\blaunchctl\s+(load|bootstrap|submit)|\bsystemctl\s+(--user\s+)?enable|\bschtasks(\.exe)?\s+/create|\breg(\.exe)?\s+add\s+.*\\(Run|RunOnce)\b)')
)
SELECT f."@timestamp", f."host.name", f.what, f.target, f."process.name",
       i."process.command_line" AS "tree.install.process.command_line", f."log.file.path", f."log.file.line"
FROM found f
JOIN install_tree t ON t.entity = f."process.entity_id"
JOIN installs i ON i."process.entity_id" = t.root
