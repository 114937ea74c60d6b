-- REST PATCH /api/{user_id}/tasks/{id}/complete: toggle completion, keeping the invariants
-- completed == (status = 'completed') and completed_at set iff completed.
\set u random(1, :nusers)
\set t random(1, :ntasks)
UPDATE tasks
   SET completed = NOT completed,
       status = CASE WHEN completed THEN 'pending' ELSE 'completed' END,
       completed_at = CASE WHEN completed THEN NULL ELSE now() END,
       updated_at = now(), version = version + 1
 WHERE id = md5('user_' || lpad(:u::text, 4, '0') || ':' || :t::text)::uuid
   AND user_id = 'user_' || lpad(:u::text, 4, '0')
RETURNING id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version;
