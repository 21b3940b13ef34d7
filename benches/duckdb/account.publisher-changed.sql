-- account.publisher-changed: each publish paired with the package's earliest later publish by
-- another account or email, then each of those keeping the latest such earlier publish (which
-- makes the pairs consecutive); `new_publisher` when the later account never published the
-- package before.
WITH publishes AS (SELECT * FROM audit WHERE "audit.activity" = 'package_publish' AND "user.name" IS NOT NULL),
firsts AS (SELECT "package.name" AS pkg, "user.name" AS publisher, min("@timestamp") AS first_publish FROM publishes GROUP BY ALL),
pairs AS (
  SELECT b."package.name" AS pkg, b."package.version" AS b_version, b."user.name" AS b_user, b."user.email" AS b_email,
         b."@timestamp" AS b_ts, b."log.file.path" AS b_path, b."log.file.line" AS b_line,
         a."package.version" AS a_version, a."user.name" AS a_user, a."user.email" AS a_email, a."@timestamp" AS a_ts,
         a."log.file.path" AS a_path, a."log.file.line" AS a_line
  FROM publishes b JOIN publishes a ON a."package.name" = b."package.name"
   AND a."@timestamp" > b."@timestamp" AND a."@timestamp" <= b."@timestamp" + INTERVAL 365 DAY
   AND (a."user.name" != b."user.name" OR a."user.email" != b."user.email")
),
earliest AS (SELECT * FROM pairs QUALIFY row_number() OVER (PARTITION BY b_path, b_line ORDER BY a_ts, a_path, a_line) = 1),
tightest AS (
  SELECT * FROM earliest QUALIFY row_number() OVER (PARTITION BY a_path, a_line ORDER BY b_ts DESC, b_path DESC, b_line DESC) = 1
)
SELECT t.pkg AS "package.name", b_version AS "before.package.version", b_user AS "before.user.name",
       b_email AS "before.user.email", a_version AS "after.package.version", a_user AS "after.user.name",
       a_email AS "after.user.email", f.first_publish = a_ts AS new_publisher, a_ts AS "after.@timestamp",
       b_path AS "before.log.file.path", b_line AS "before.log.file.line", a_path AS "after.log.file.path",
       a_line AS "after.log.file.line"
FROM tightest t JOIN firsts f ON f.pkg = t.pkg AND f.publisher = a_user
