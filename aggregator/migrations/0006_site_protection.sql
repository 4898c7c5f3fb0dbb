-- Per-site protection (issue 5): pages on subdomains, and what is not counted.
-- `allow_subdomains`: a page on blog.example.com counts for example.com.
-- `excluded_ips`: addresses or CIDR ranges (the newsroom's office) whose events are dropped.
-- `excluded_paths`: path globs (`/admin/*`) whose events are dropped.
ALTER TABLE sites ADD COLUMN IF NOT EXISTS allow_subdomains Bool DEFAULT false AFTER article_pattern;
ALTER TABLE sites ADD COLUMN IF NOT EXISTS excluded_ips Array(String) AFTER allow_subdomains;
ALTER TABLE sites ADD COLUMN IF NOT EXISTS excluded_paths Array(String) AFTER excluded_ips
