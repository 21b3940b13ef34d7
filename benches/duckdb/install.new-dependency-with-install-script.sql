-- install.new-dependency-with-install-script: per package, each publish paired with the next in
-- the same major.minor line (spoor's sequence policy), the dependency names the later one added,
-- kept when that dependency was first published within 30 days before and has install scripts,
-- and the package is in at least two projects' lockfiles.
WITH publishes AS (SELECT * FROM audit WHERE "audit.activity" = 'package_publish'),
used AS (SELECT "package.name" AS pkg, count(DISTINCT "package.project") AS projects FROM package GROUP BY ALL HAVING projects >= 2),
newcomers AS (
  SELECT "package.name" AS pkg, min("@timestamp") AS first_publish, max(len("package.scripts")) AS with_scripts,
         arg_max("package.scripts", "@timestamp") AS scripts
  FROM publishes GROUP BY ALL HAVING with_scripts > 0
),
pairs AS (
  SELECT b."package.name" AS pkg, b."package.version" AS b_version, b."package.dependencies" AS b_deps,
         b."@timestamp" AS b_ts, b."log.file.path" AS b_path, b."log.file.line" AS b_line,
         a."package.version" AS a_version, a."package.dependencies" AS a_deps, a."user.name" AS a_user,
         a."@timestamp" AS a_ts, a."log.file.path" AS a_path, a."log.file.line" AS a_line
  FROM publishes b JOIN publishes a ON a."package.name" = b."package.name"
   AND a."@timestamp" > b."@timestamp" AND a."@timestamp" <= b."@timestamp" + INTERVAL 365 DAY
   AND split_part(a."package.version", '.', 1) = split_part(b."package.version", '.', 1)
   AND split_part(a."package.version", '.', 2) = split_part(b."package.version", '.', 2)
),
earliest AS (SELECT * FROM pairs QUALIFY row_number() OVER (PARTITION BY b_path, b_line ORDER BY a_ts, a_path, a_line) = 1),
tightest AS (
  SELECT * FROM earliest QUALIFY row_number() OVER (PARTITION BY a_path, a_line ORDER BY b_ts DESC, b_path DESC, b_line DESC) = 1
),
added AS (
  SELECT *, unnest(list_distinct(list_filter(
           list_transform(a_deps, lambda d: regexp_extract(d, '^(.[^@]*)', 1)),
           lambda n: NOT list_contains(list_transform(b_deps, lambda d: regexp_extract(d, '^(.[^@]*)', 1)), n)))) AS added
  FROM tightest
)
SELECT a_ts AS "after.@timestamp", x.pkg AS "package.name", b_version AS "before.package.version",
       a_version AS "after.package.version", added, n.first_publish AS "dependency.first_publish",
       n.scripts AS "dependency.scripts", u.projects AS "used.projects", a_user AS "after.user.name",
       a_path AS "after.log.file.path", a_line AS "after.log.file.line"
FROM added x
JOIN used u ON u.pkg = x.pkg
JOIN newcomers n ON n.pkg = x.added
WHERE n.first_publish >= a_ts - INTERVAL 30 DAY
