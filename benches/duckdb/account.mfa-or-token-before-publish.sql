-- account.mfa-or-token-before-publish: as the email-change sequence, with two-factor removal
-- or token creation as the first step and a 24 h span.
WITH weakened AS (SELECT * FROM audit WHERE "audit.activity" IN ('mfa_disable', 'token_create')),
publishes AS (SELECT * FROM audit WHERE "audit.activity" = 'package_publish'),
pairs AS (
  SELECT w."@timestamp" AS w_ts, w."user.name" AS w_user, w."audit.activity" AS w_activity, w."event.action" AS w_action, w."source.ip" AS w_ip,
         w."log.file.path" AS w_path, w."log.file.line" AS w_line,
         p."@timestamp" AS p_ts, p."package.name" AS p_name, p."package.version" AS p_version,
         p."log.file.path" AS p_path, p."log.file.line" AS p_line
  FROM weakened w JOIN publishes p ON p."user.name" = w."user.name"
   AND p."@timestamp" > w."@timestamp" AND p."@timestamp" <= w."@timestamp" + INTERVAL 24 HOUR
),
earliest AS (SELECT * FROM pairs QUALIFY row_number() OVER (PARTITION BY w_path, w_line ORDER BY p_ts, p_path, p_line) = 1),
tightest AS (
  SELECT * FROM earliest QUALIFY row_number() OVER (PARTITION BY p_path, p_line ORDER BY w_ts DESC, w_path DESC, w_line DESC) = 1
)
SELECT w_ts AS "weakened.@timestamp", w_user AS "user.name", w_activity AS "weakened.audit.activity", w_action AS "weakened.event.action", w_ip AS "weakened.source.ip",
       p_ts AS "publish.@timestamp", p_name AS "publish.package.name", p_version AS "publish.package.version",
       w_path AS "weakened.log.file.path", w_line AS "weakened.log.file.line", p_path AS "publish.log.file.path",
       p_line AS "publish.log.file.line"
FROM tightest
