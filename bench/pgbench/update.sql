-- REST PUT /api/{user_id}/tasks/{id} {"title": ...}: update by id AND owner, bump version.
\set u random(1, :nusers)
\set t random(1, :ntasks)
UPDATE tasks
   SET title = 'pgbench-update ' || :t::text, updated_at = now(), version = version + 1
 WHERE id = md5('user_' || lpad(:u::text, 4, '0') || ':' || :t::text)::uuid
   AND user_id = 'user_' || lpad(:u::text, 4, '0')
RETURNING id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version;
