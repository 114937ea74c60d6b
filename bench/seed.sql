-- seed.sql -- deterministic bench data for the todo service schema (after `todo-api migrate`).
--
--   psql -v ON_ERROR_STOP=1 -v n_users=1000 -v tasks_per_user=50 -v heavy_tasks=1000 -f seed.sql
--
-- Users user_0001 .. user_NNNN (n_users) with tasks_per_user tasks each, plus "heavy_user"
-- with heavy_tasks tasks. Task ids are md5('<user_id>:<n>')::uuid (n = 1..), the same
-- scheme as /work/shared/anchors/seed.sh, so pgbench and wrk address rows without lookups.
-- Every "random" choice comes from md5 of the row key, so the data is identical on every run.
-- Mix: status 50 % pending / 20 % in_progress / 30 % completed; priority 30 % low /
-- 50 % medium / 20 % high; 60 % have a due date (-10 .. +49 days around creation, so some
-- are overdue); 80 % have a description. Invariant kept: completed == (status = 'completed'),
-- completed_at IS NOT NULL iff completed. Task n is newer than task n-1 (one day apart).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
TRUNCATE users CASCADE;

CREATE TEMP TABLE bench_owner (uid text PRIMARY KEY, n int NOT NULL, ord int NOT NULL);
INSERT INTO bench_owner
SELECT 'user_' || lpad(u::text, 4, '0'), :tasks_per_user, u FROM generate_series(1, :n_users) AS u
UNION ALL
SELECT 'heavy_user', :heavy_tasks, 0;

-- users first (tasks.user_id references users)
INSERT INTO users (id, email, name, created_at, updated_at)
SELECT uid, uid || '@bench.example', 'Bench ' || uid,
       timestamptz '2024-12-01 00:00:00+00' + make_interval(mins => ord),
       timestamptz '2024-12-01 00:00:00+00' + make_interval(mins => ord)
  FROM bench_owner ORDER BY ord;

INSERT INTO tasks (id, user_id, title, description, completed, completed_at, status, priority,
                   due_date, created_at, updated_at, version)
SELECT id, uid, title, description,
       status = 'completed',
       CASE WHEN status = 'completed' THEN updated_at END,
       status, priority, due_date, created_at, updated_at, version
FROM (
  SELECT md5(o.uid || ':' || t)::uuid AS id,
         o.uid,
         'Task ' || t || ' for ' || o.uid AS title,
         CASE WHEN r.r1 % 5 = 0 THEN NULL
              ELSE 'Description of task ' || t || ': ' || md5(o.uid || '/' || t) || ' lorem ipsum dolor sit amet'
         END AS description,
         CASE WHEN r.r1 % 100 < 50 THEN 'pending'
              WHEN r.r1 % 100 < 70 THEN 'in_progress'
              ELSE 'completed' END AS status,
         CASE WHEN r.r2 % 100 < 30 THEN 'low'
              WHEN r.r2 % 100 < 80 THEN 'medium'
              ELSE 'high' END AS priority,
         CASE WHEN r.r3 % 100 < 40 THEN NULL
              ELSE c.created_at + make_interval(days => (r.r3 / 100) % 60 - 10) END AS due_date,
         c.created_at,
         c.created_at + make_interval(mins => r.r4 % 4320) AS updated_at,
         1 + r.r4 % 3 AS version
    FROM bench_owner o
   CROSS JOIN LATERAL generate_series(1, o.n) AS t
   CROSS JOIN LATERAL (SELECT md5(o.uid || ':' || t || ':mix') AS h) hh
   CROSS JOIN LATERAL (SELECT ('x' || substr(hh.h, 1, 8))::bit(32)::int & 2147483647 AS r1,
                              ('x' || substr(hh.h, 9, 8))::bit(32)::int & 2147483647 AS r2,
                              ('x' || substr(hh.h, 17, 8))::bit(32)::int & 2147483647 AS r3,
                              ('x' || substr(hh.h, 25, 8))::bit(32)::int & 2147483647 AS r4) r
   CROSS JOIN LATERAL (SELECT timestamptz '2025-01-01 00:00:00+00'
                              + make_interval(days => t, mins => r.r4 % 1440) AS created_at) c
) s;

VACUUM (ANALYZE) users;
VACUUM (ANALYZE) tasks;
SELECT 'seeded users=' || (SELECT count(*) FROM users) || ' tasks=' || (SELECT count(*) FROM tasks)
       || ' completed=' || (SELECT count(*) FROM tasks WHERE completed) AS seed;
