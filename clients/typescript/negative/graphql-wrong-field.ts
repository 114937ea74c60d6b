// Expected to FAIL type-checking: the task's field is `dueDate`, not `due_date`.
import { GetTask, type Execute } from "../src/graphql";

export async function wrongField(execute: Execute): Promise<string | null | undefined> {
  const { task } = await execute(GetTask, { id: "3f2b8c1e-9a4d-4e5f-8b6a-0c1d2e3f4a5b" });
  return task?.due_date;
}
