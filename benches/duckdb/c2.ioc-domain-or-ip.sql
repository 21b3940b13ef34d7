-- c2.ioc-domain-or-ip: IOC domains and their subdomains in DNS, connections to IOC addresses,
-- to what IOC domains resolved to, and to IOC host names; each host, process, kind, indicator
-- and destination once, at its earliest event.
WITH domains AS (SELECT value, campaign FROM iocs WHERE type = 'domain'),
addresses AS (SELECT value, campaign FROM iocs WHERE type IN ('ipv4', 'ipv6')),
hits AS (
  SELECT d.*, i.value AS indicator, i.campaign
  FROM dns d JOIN domains i ON d."dns.question.name" = i.value OR ends_with(d."dns.question.name", '.' || i.value)
),
resolved AS (
  SELECT DISTINCT ip, domain, campaign
  FROM (SELECT unnest("dns.resolved_ip") AS ip, "dns.question.name" AS domain, campaign FROM hits)
),
found AS (
  SELECT "@timestamp", "host.name", 'dns lookup' AS what, indicator, "dns.question.name",
         NULL::VARCHAR AS "destination.ip", NULL::BIGINT AS "destination.port", "process.name", campaign,
         "log.file.path", "log.file.line"
  FROM hits
  UNION ALL
  SELECT n."@timestamp", n."host.name", 'connection to a C2 domain''s address', r.domain, NULL, n."destination.ip",
         n."destination.port", n."process.name", r.campaign, n."log.file.path", n."log.file.line"
  FROM network n JOIN resolved r ON n."destination.ip" = r.ip
  UNION ALL
  SELECT n."@timestamp", n."host.name", 'connection to an IOC address', a.value, NULL, n."destination.ip",
         n."destination.port", n."process.name", a.campaign, n."log.file.path", n."log.file.line"
  FROM network n JOIN addresses a ON n."destination.ip" = a.value
  UNION ALL
  SELECT n."@timestamp", n."host.name", 'connection to an IOC domain', i.value, NULL, n."destination.ip",
         n."destination.port", n."process.name", i.campaign, n."log.file.path", n."log.file.line"
  FROM network n JOIN domains i ON n."destination.domain" = i.value OR ends_with(n."destination.domain", '.' || i.value)
)
SELECT * FROM found
QUALIFY row_number() OVER (
  PARTITION BY "host.name", "process.name", what, indicator, "destination.ip", "destination.port"
  ORDER BY "@timestamp", "log.file.path", "log.file.line") = 1
