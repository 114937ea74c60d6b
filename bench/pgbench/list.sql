-- REST GET /api/{user_id}/tasks?limit=50 (and the rows of GraphQL tasks(first: 50)):
-- one random user's 50 newest tasks. Index (user_id, created_at), backward scan.
\set u random(1, :nusers)
SELECT id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version
  FROM tasks
 WHERE user_id = 'user_' || lpad(:u::text, 4, '0')
 ORDER BY created_at DESC
 LIMIT 50;
