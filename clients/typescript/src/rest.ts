// Every REST call the frontends make, typed by openapi-typescript from the running API's
// /openapi.json (generated/rest.ts) and sent with openapi-fetch. Nothing here is hand-typed:
// a path, parameter, body field or response field the API does not have fails `tsc`.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "../generated/rest";

type Schemas = components["schemas"];
export type Task = Schemas["Task"];
export type TaskCreate = Schemas["TaskCreate"];
export type TaskUpdate = Schemas["TaskUpdate"];
export type ApiError = Schemas["ErrorBody"];
export type TaskV1 = Schemas["TaskEnvelope"]["data"]["task"];
export type ApiErrorV1 = Schemas["ErrorEnvelope"];

/** A client of the API whose every call carries the caller's bearer token. */
export function tasksApi(baseUrl: string, token: () => Promise<string>) {
  const client = createClient<paths>({ baseUrl });
  const bearer: Middleware = {
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await token()}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}

export type TasksApi = ReturnType<typeof tasksApi>;

/** The API's error body as an exception: `detail` is the message a UI shows. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(`${body.detail} (${body.code}, request ${body.request_id})`);
  }

  /** The problem with one form field, when the API named it (validation errors). */
  fieldMessage(field: string): string | undefined {
    return this.body.errors?.find((problem) => problem.field === field)?.message;
  }
}

export interface TaskPage {
  tasks: Task[];
  total: number;
  next: string | null;
}

/** The open, high-priority tasks mentioning "milk", due first, 50 a page. */
export async function listDueMilk(api: TasksApi, userId: string, page = 1): Promise<TaskPage> {
  const { data, error, response } = await api.GET("/api/{user_id}/tasks", {
    params: {
      path: { user_id: userId },
      query: {
        status: "pending",
        completed: "false",
        priority: "high",
        q: "milk",
        due_after: "2030-01-01T00:00:00Z",
        due_before: "2030-12-31T23:59:59Z",
        sort: "due_date",
        order: "asc",
        limit: 50,
        page,
      },
    },
  });
  if (error) throw new ApiFailure(response.status, error);
  const total = Number(response.headers.get("X-Total-Count"));
  return { tasks: data, total, next: response.headers.get("Link") };
}

export async function createTask(api: TasksApi, userId: string, task: TaskCreate): Promise<Task> {
  const { data, error, response } = await api.POST("/api/{user_id}/tasks", {
    params: { path: { user_id: userId } },
    body: task,
  });
  if (error) throw new ApiFailure(response.status, error);
  return data;
}

/** The task and its ETag (send it back as If-Match to change it safely). */
export async function getTask(
  api: TasksApi,
  userId: string,
  taskId: string,
): Promise<{ task: Task; etag: string | null }> {
  const { data, error, response } = await api.GET("/api/{user_id}/tasks/{task_id}", {
    params: { path: { user_id: userId, task_id: taskId } },
  });
  if (error) throw new ApiFailure(response.status, error);
  return { task: data, etag: response.headers.get("ETag") };
}

/** Change the fields given; with an ETag, only if nobody changed the task since (else 412). */
export async function updateTask(
  api: TasksApi,
  userId: string,
  taskId: string,
  changes: TaskUpdate,
  etag?: string,
): Promise<Task> {
  const { data, error, response } = await api.PUT("/api/{user_id}/tasks/{task_id}", {
    params: { path: { user_id: userId, task_id: taskId } },
    body: changes,
    headers: etag ? { "If-Match": etag } : {},
  });
  if (error) throw new ApiFailure(response.status, error);
  return data;
}

/** Set the completion state explicitly (idempotent). */
export async function setCompleted(
  api: TasksApi,
  userId: string,
  taskId: string,
  completed: boolean,
): Promise<Task> {
  const { data, error, response } = await api.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
    params: { path: { user_id: userId, task_id: taskId } },
    body: { completed },
  });
  if (error) throw new ApiFailure(response.status, error);
  return data;
}

/** Flip the completion state: the same call with no body. */
export async function toggleCompleted(
  api: TasksApi,
  userId: string,
  taskId: string,
): Promise<Task> {
  const { data, error, response } = await api.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
    params: { path: { user_id: userId, task_id: taskId } },
  });
  if (error) throw new ApiFailure(response.status, error);
  return data;
}

export async function deleteTask(api: TasksApi, userId: string, taskId: string): Promise<void> {
  const { error, response } = await api.DELETE("/api/{user_id}/tasks/{task_id}", {
    params: { path: { user_id: userId, task_id: taskId } },
  });
  if (error) throw new ApiFailure(response.status, error);
}

/** A form's submit: the task, or the message to show beside each field the API rejected. */
export async function submitNewTask(
  api: TasksApi,
  userId: string,
  form: { title: string; description: string; due: string | null },
): Promise<Task | { title?: string; description?: string; other?: string }> {
  try {
    return await createTask(api, userId, {
      title: form.title,
      description: form.description || null,
      due_date: form.due,
      priority: "medium",
    });
  } catch (failure) {
    if (!(failure instanceof ApiFailure)) throw failure;
    if (failure.body.code !== "VALIDATION_ERROR") return { other: failure.body.detail };
    return {
      title: failure.fieldMessage("title"),
      description: failure.fieldMessage("description"),
    };
  }
}

/** The same tasks without the user id in the URL: the token says who the user is. */
export async function fromToken(api: TasksApi): Promise<Task> {
  const listed = await api.GET("/api/tasks", {
    params: { query: { status: "all", sort: "created", search: "milk", page: 2, limit: 20 } },
  });
  if (listed.error) throw new ApiFailure(listed.response.status, listed.error);
  const created = await api.POST("/api/tasks", {
    body: { title: "Buy milk", status: "in_progress" },
  });
  if (created.error) throw new ApiFailure(created.response.status, created.error);
  const toggled = await api.PATCH("/api/tasks/{task_id}/complete", {
    params: { path: { task_id: created.data.id } },
  });
  if (toggled.error) throw new ApiFailure(toggled.response.status, toggled.error);
  return toggled.data;
}

/** Clients of /api/v1: answers and errors come in envelopes. */
export async function v1(
  api: TasksApi,
  userId: string,
): Promise<{ tasks: TaskV1[]; more: boolean }> {
  const created = await api.POST("/api/v1/{user_id}/tasks", {
    params: { path: { user_id: userId } },
    body: { title: "Buy milk", priority: "high" },
  });
  if (created.error) throw new Error(envelopeMessage(created.error));
  const toggled = await api.PATCH("/api/v1/{user_id}/tasks/{task_id}/complete", {
    params: { path: { user_id: userId, task_id: created.data.data.task.id } },
  });
  if (toggled.error) throw new Error(envelopeMessage(toggled.error));
  const listed = await api.GET("/api/v1/{user_id}/tasks", {
    params: { path: { user_id: userId }, query: { status: "completed", limit: 100, offset: 0 } },
  });
  if (listed.error) throw new Error(envelopeMessage(listed.error));
  return { tasks: listed.data.data.tasks, more: listed.data.data.pagination.has_more };
}

function envelopeMessage(error: ApiErrorV1): string {
  return `${error.error} (${error.code}, request ${error.details.request_id})`;
}

/** A whole session of the primary API, as the todo frontend runs it. */
export async function session(api: TasksApi, userId: string): Promise<string[]> {
  const created = await createTask(api, userId, {
    title: "Buy milk",
    description: "Two litres",
    priority: "high",
    due_date: "2030-01-02T09:00:00Z",
  });
  const { task, etag } = await getTask(api, userId, created.id);
  const renamed = await updateTask(
    api,
    userId,
    task.id,
    { title: "Buy oat milk", status: "in_progress" },
    etag ?? undefined,
  );
  const done = await setCompleted(api, userId, renamed.id, true);
  const reopened = await toggleCompleted(api, userId, done.id);
  const page = await listDueMilk(api, userId);
  await deleteTask(api, userId, reopened.id);
  return [
    `${reopened.title}: ${reopened.status}, ${reopened.priority}, v${reopened.version}`,
    `completed at ${done.completed_at ?? "never"}, due ${reopened.due_date ?? "whenever"}`,
    `${page.total} due, first ${page.tasks[0]?.title ?? "none"}, created ${created.created_at}`,
  ];
}
