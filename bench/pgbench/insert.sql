-- REST POST /api/{user_id}/tasks {"title": ...}: insert with server-side defaults + RETURNING.
-- Rows are titled 'pgbench-create' and deleted by driver.py afterwards.
\set u random(1, :nusers)
INSERT INTO tasks (id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version)
VALUES (gen_random_uuid(), 'user_' || lpad(:u::text, 4, '0'), 'pgbench-create', NULL, false, NULL,
        'pending', 'medium', NULL, now(), now(), 1)
RETURNING id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version;
