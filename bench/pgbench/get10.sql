-- GraphQL ten aliased task(id:) lookups, batched (DataLoader) into one query per request.
\set u random(1, :nusers)
\set t0 random(1, :ntasks)
\set t1 random(1, :ntasks)
\set t2 random(1, :ntasks)
\set t3 random(1, :ntasks)
\set t4 random(1, :ntasks)
\set t5 random(1, :ntasks)
\set t6 random(1, :ntasks)
\set t7 random(1, :ntasks)
\set t8 random(1, :ntasks)
\set t9 random(1, :ntasks)
SELECT id, user_id, title, description, completed, completed_at, status, priority, due_date, created_at, updated_at, version
  FROM tasks
 WHERE user_id = 'user_' || lpad(:u::text, 4, '0')
   AND id = ANY (ARRAY[md5('user_' || lpad(:u::text, 4, '0') || ':' || :t0::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t1::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t2::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t3::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t4::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t5::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t6::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t7::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t8::text)::uuid,
                      md5('user_' || lpad(:u::text, 4, '0') || ':' || :t9::text)::uuid]);
