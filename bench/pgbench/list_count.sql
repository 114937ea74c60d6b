-- GraphQL query { tasks(first: 50) { nodes {...} totalCount } }: the 50 newest + the count.
\set u random(1, :nusers)
SELECT id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version
  FROM tasks
 WHERE user_id = 'user_' || lpad(:u::text, 4, '0')
 ORDER BY created_at DESC
 LIMIT 50;
SELECT count(*) FROM tasks WHERE user_id = 'user_' || lpad(:u::text, 4, '0');
