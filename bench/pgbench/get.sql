-- REST GET /api/{user_id}/tasks/{id}: one task by id AND owner (ids are md5('<user>:<n>')::uuid).
\set u random(1, :nusers)
\set t random(1, :ntasks)
SELECT id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version
  FROM tasks
 WHERE id = md5('user_' || lpad(:u::text, 4, '0') || ':' || :t::text)::uuid
   AND user_id = 'user_' || lpad(:u::text, 4, '0');
