-- account.email-change-then-publish: spoor's sequence policy written out: each email change is
-- paired with the account's earliest later publish within 72 h, then each publish keeps the
-- latest change paired with it.
WITH changes AS (SELECT * FROM audit WHERE "audit.activity" = 'email_change'),
publishes AS (SELECT * FROM audit WHERE "audit.activity" = 'package_publish'),
pairs AS (
  SELECT c."@timestamp" AS c_ts, c."user.name" AS c_user, c."audit.old_value" AS c_old, c."audit.new_value" AS c_new,
         c."log.file.path" AS c_path, c."log.file.line" AS c_line,
         p."@timestamp" AS p_ts, p."package.name" AS p_name, p."package.version" AS p_version,
         p."log.file.path" AS p_path, p."log.file.line" AS p_line
  FROM changes c JOIN publishes p ON p."user.name" = c."user.name"
   AND p."@timestamp" > c."@timestamp" AND p."@timestamp" <= c."@timestamp" + INTERVAL 72 HOUR
),
earliest AS (
  SELECT * FROM pairs QUALIFY row_number() OVER (PARTITION BY c_path, c_line ORDER BY p_ts, p_path, p_line) = 1
),
tightest AS (
  SELECT * FROM earliest QUALIFY row_number() OVER (PARTITION BY p_path, p_line ORDER BY c_ts DESC, c_path DESC, c_line DESC) = 1
)
SELECT c_ts AS "change.@timestamp", c_user AS "user.name", c_old AS "change.audit.old_value", c_new AS "change.audit.new_value",
       split_part(c_new, '@', 2) IN ('proton.me', 'protonmail.com', 'pm.me', 'tutanota.com', 'tuta.io', 'cock.li',
                                     'onionmail.org', 'guerrillamail.com') AS privacy_mail,
       p_ts AS "publish.@timestamp", p_name AS "publish.package.name", p_version AS "publish.package.version",
       c_path AS "change.log.file.path", c_line AS "change.log.file.line", p_path AS "publish.log.file.path",
       p_line AS "publish.log.file.line"
FROM tightest
