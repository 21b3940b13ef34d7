-- process.install-script-downloader: every (install, shell, payload) where the shell descends
-- from the install (by entity id, up to 64 levels) and the payload is the shell's child.
SELECT p."@timestamp" AS "payload.@timestamp", p."host.name", p."user.name", i."process.command_line" AS "install.process.command_line",
       s."process.command_line" AS "shell.process.command_line", p."process.name" AS "payload.process.name",
       p."process.command_line" AS "payload.process.command_line", p."process.entity_id" AS "payload.process.entity_id",
       p."log.file.path" AS "payload.log.file.path", p."log.file.line" AS "payload.log.file.line"
FROM install_tree t
JOIN installs i ON i."process.entity_id" = t.root
JOIN process s ON s."process.entity_id" = t.entity
JOIN process p ON p."process.parent.entity_id" = s."process.entity_id"
WHERE lower(s."process.name") IN ('sh', 'bash', 'dash', 'zsh', 'ksh', 'cmd.exe', 'powershell.exe', 'pwsh', 'pwsh.exe')
  AND (lower(p."process.name") IN ('curl', 'curl.exe', 'wget', 'wget.exe', 'certutil.exe', 'bitsadmin.exe')
       OR contains(lower(p."process.command_line"), 'invoke-webrequest')
       OR contains(lower(p."process.command_line"), 'downloadstring')
       OR contains(lower(p."process.command_line"), 'downloadfile')
       OR regexp_matches(p."process.command_line", '(?i)\s-(e|ec|enc|encodedcommand)\s+[A-Za-z0-9+/=]{16,}'))
