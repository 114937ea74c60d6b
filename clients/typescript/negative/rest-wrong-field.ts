// Expected to FAIL type-checking: the task's field is `title`, not `titel`.
import { getTask, type TasksApi } from "../src/rest";

export async function wrongField(api: TasksApi): Promise<string> {
  const { task } = await getTask(api, "alice", "3f2b8c1e-9a4d-4e5f-8b6a-0c1d2e3f4a5b");
  return task.titel;
}
