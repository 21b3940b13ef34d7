-- process.install-script-downloader: every (install, shell, payload) where the shell descends
-- from the install (by entity id, up to 64 levels) and the payload is the shell's child.
WITH RECURSIVE installs AS (
  SELECT * FROM process
  WHERE regexp_matches("process.command_line", '(?i)\b(npm|npm-cli|yarn|pnpm|bun)(\.cmd|\.exe|\.js)?"?\s+(i|install|add|ci|update|upgrade|rebuild)\b')
),
tree(root, entity, depth) AS (
  SELECT i."process.entity_id", c."process.entity_id", 1
  FROM installs i JOIN process c ON c."process.parent.entity_id" = i."process.entity_id"
  UNION ALL
  SELECT t.root, c."process.entity_id", t.depth + 1
  FROM tree t JOIN process c ON c."process.parent.entity_id" = t.entity
  WHERE t.depth < 64
)
SELECT p."@timestamp" AS "payload.@timestamp", p."host.name", p."user.name", i."process.command_line" AS "install.process.command_line",
       s."process.command_line" AS "shell.process.command_line", p."process.name" AS "payload.process.name",
       p."process.command_line" AS "payload.process.command_line", p."process.entity_id" AS "payload.process.entity_id",
       p."log.file.path" AS "payload.log.file.path", p."log.file.line" AS "payload.log.file.line"
FROM tree t
JOIN installs i ON i."process.entity_id" = t.root
JOIN process s ON s."process.entity_id" = t.entity
JOIN process p ON p."process.parent.entity_id" = s."process.entity_id"
WHERE lower(s."process.name") IN ('sh', 'bash', 'dash', 'zsh', 'ksh', 'cmd.exe', 'powershell.exe', 'pwsh', 'pwsh.exe')
  AND (lower(p."process.name") IN ('curl', 'curl.exe', 'wget', 'wget.exe', 'certutil.exe', 'bitsadmin.exe')
       OR contains(lower(p."process.command_line"), 'invoke-webrequest')
       OR contains(lower(p."process.command_line"), 'downloadstring')
       OR contains(lower(p."process.command_line"), 'downloadfile')
       OR regexp_matches(p."process.command_line", '(?i)\s-(e|ec|enc|encodedcommand)\s+[A-Za-z0-9+/=]{16,}'))
