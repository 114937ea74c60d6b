-- REST GET /api/heavy_user/tasks?limit=:heavypage&offset=... : one random page of the user
-- with 1,000 tasks, newest first (the rows of rest_heavy; its total is not counted here).
\set off :heavypage * random(0, :heavypages - 1)
SELECT id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version
  FROM tasks
 WHERE user_id = 'heavy_user'
 ORDER BY created_at DESC, id DESC
 LIMIT :heavypage OFFSET :off;
