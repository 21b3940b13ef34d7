-- process.script-self-deletes: a script written, a process naming it started, and that process
-- deleting it, on one host within 10 minutes; spoor's sequence policy written out.
WITH written AS (
  SELECT * FROM file
  WHERE "event.action" = 'creation' AND lower("file.extension") IN ('js', 'cjs', 'mjs', 'py', 'sh', 'ps1', 'vbs', 'bat', 'cmd')
),
removed AS (SELECT * FROM file WHERE "event.action" = 'deletion'),
triples AS (
  SELECT w."@timestamp" AS w_ts, w."host.name" AS host, w."file.path" AS w_file, w."log.file.path" AS w_path,
         w."log.file.line" AS w_line,
         r."process.command_line" AS r_cmd, r."process.entity_id" AS r_entity, r."@timestamp" AS r_ts,
         r."log.file.path" AS r_path, r."log.file.line" AS r_line,
         d."@timestamp" AS d_ts, d."log.file.path" AS d_path, d."log.file.line" AS d_line
  FROM written w
  JOIN process r ON r."host.name" = w."host.name" AND contains(r."process.command_line", w."file.name")
   AND r."@timestamp" > w."@timestamp" AND r."@timestamp" <= w."@timestamp" + INTERVAL 10 MINUTE
  JOIN removed d ON d."host.name" = w."host.name" AND d."file.path" = w."file.path"
   AND d."process.entity_id" = r."process.entity_id"
   AND d."@timestamp" > r."@timestamp" AND d."@timestamp" <= w."@timestamp" + INTERVAL 10 MINUTE
),
earliest AS (
  SELECT * FROM triples
  QUALIFY row_number() OVER (PARTITION BY w_path, w_line ORDER BY r_ts, r_path, r_line, d_ts, d_path, d_line) = 1
),
tightest AS (
  SELECT * FROM earliest
  QUALIFY row_number() OVER (PARTITION BY d_path, d_line ORDER BY w_ts DESC, w_path DESC, w_line DESC) = 1
)
SELECT w_ts AS "written.@timestamp", host AS "host.name", w_file AS "written.file.path", r_cmd AS "ran.process.command_line",
       r_entity AS "ran.process.entity_id", d_ts AS "removed.@timestamp", w_path AS "written.log.file.path",
       w_line AS "written.log.file.line", r_path AS "ran.log.file.path", r_line AS "ran.log.file.line",
       d_path AS "removed.log.file.path", d_line AS "removed.log.file.line"
FROM tightest
