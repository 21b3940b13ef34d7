-- process.node-spawns-encoded-command: children of node with a 100+ character base64 or hex
-- run, or a long high-entropy command line. Entropy is computed per character (the command
-- lines here are ASCII, where that equals spoor's per-byte entropy).
WITH candidates AS (
  SELECT row_number() OVER () AS id, * FROM process WHERE lower("process.parent.name") IN ('node', 'node.exe')
),
counts AS (
  SELECT id, ch, count(*) AS n FROM (SELECT id, unnest(string_split("process.command_line", '')) AS ch FROM candidates)
  GROUP BY ALL
),
scores AS (
  SELECT id, -sum(n / total * log2(n / total)) AS entropy
  FROM (SELECT id, n, sum(n) OVER (PARTITION BY id) AS total FROM counts) GROUP BY id
),
scored AS (
  SELECT c.*, round(coalesce(s.entropy, 0), 2) AS score, length(c."process.command_line") AS length
  FROM candidates c LEFT JOIN scores s ON s.id = c.id
)
SELECT "@timestamp", "host.name", "user.name", "process.parent.command_line", "process.name", "process.command_line",
       length, score,
       replace(decode(try(from_base64(split_part(split_part("process.command_line", ' -enc ', 2), ' ', 1)))), chr(0), '') AS decoded,
       "log.file.path", "log.file.line"
FROM scored
WHERE regexp_matches("process.command_line", '[A-Za-z0-9+/]{100,}={0,2}')
   OR regexp_matches("process.command_line", '(?i)\b[0-9a-f]{100,}\b')
   OR (length > 200 AND score > 5.2)
