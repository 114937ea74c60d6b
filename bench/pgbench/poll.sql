-- REST GET /api/{user_id}/tasks?limit=50 with If-None-Match naming the current tag (304):
-- one primary-key lookup of the user's task revision, no list query.
\set u random(1, :nusers)
SELECT tasks_revision FROM users WHERE id = 'user_' || lpad(:u::text, 4, '0');
