// The operations a chatbot sends to /graphql, typed by graphql-codegen (client preset) from
// schema.graphql into generated/graphql/. An operation that asks for a field the schema lacks
// fails codegen; code that reads a field the operation did not ask for fails `tsc`.
import { graphql } from "../generated/graphql";
import type { TypedDocumentString } from "../generated/graphql/graphql";

graphql(`
  fragment TaskFields on Task {
    id
    title
    description
    status
    priority
    completed
    completedAt
    dueDate
    createdAt
    updatedAt
    version
  }
`);

export const ListTasks = graphql(`
  query ListTasks($filter: TaskFilter, $orderBy: TaskOrder, $first: Int, $after: String) {
    tasks(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      nodes {
        ...TaskFields
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const GetTask = graphql(`
  query GetTask($id: ID!) {
    task(id: $id) {
      ...TaskFields
    }
  }
`);

export const Me = graphql(`
  query Me {
    me {
      id
      email
      name
      taskCounts {
        total
        pending
        inProgress
        completed
      }
    }
  }
`);

export const CreateTask = graphql(`
  mutation CreateTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      ...TaskFields
    }
  }
`);

export const UpdateTask = graphql(`
  mutation UpdateTask($id: ID!, $input: UpdateTaskInput!, $expectedVersion: Int) {
    updateTask(id: $id, input: $input, expectedVersion: $expectedVersion) {
      ...TaskFields
    }
  }
`);

export const SetTaskCompleted = graphql(`
  mutation SetTaskCompleted($id: ID!, $completed: Boolean!) {
    setTaskCompleted(id: $id, completed: $completed) {
      id
      completed
      completedAt
      status
      version
    }
  }
`);

export const ToggleTaskCompleted = graphql(`
  mutation ToggleTaskCompleted($id: ID!) {
    toggleTaskCompleted(id: $id) {
      id
      completed
      status
      version
    }
  }
`);

export const DeleteTask = graphql(`
  mutation DeleteTask($id: ID!) {
    deleteTask(id: $id)
  }
`);

/** One entry of a GraphQL answer's `errors`, with this API's `extensions`. */
export interface GraphQLFailure {
  message: string;
  extensions?: { code?: string; errors?: { field: string; message: string }[] };
}

export class GraphQLError extends Error {
  constructor(readonly errors: GraphQLFailure[]) {
    super(errors.map((error) => `${error.message} (${error.extensions?.code ?? "?"})`).join("; "));
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

/** A function that runs one typed operation against /graphql for the caller. */
export type Execute = <Result, Variables>(
  document: TypedDocumentString<Result, Variables>,
  ...[variables]: Variables extends Record<string, never> ? [] : [Variables]
) => Promise<Result>;

export function graphqlClient(url: string, token: () => Promise<string>): Execute {
  return async (document, ...[variables]) => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${await token()}`,
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    const body = (await response.json()) as { data?: unknown; errors?: GraphQLFailure[] };
    if (body.errors?.length) throw new GraphQLError(body.errors);
    return body.data as never;
  };
}

/** What a chatbot does in one conversation: every operation, every field it reads. */
export async function conversation(execute: Execute): Promise<string[]> {
  const { me } = await execute(Me);
  const { createTask } = await execute(CreateTask, {
    input: { title: "Call the plumber", priority: "HIGH", dueDate: "2030-01-02T09:00:00Z" },
  });
  const { updateTask } = await execute(UpdateTask, {
    id: createTask.id,
    input: { description: "About the kitchen tap", status: "IN_PROGRESS" },
    expectedVersion: createTask.version,
  });
  const { setTaskCompleted } = await execute(SetTaskCompleted, {
    id: updateTask.id,
    completed: true,
  });
  const { toggleTaskCompleted } = await execute(ToggleTaskCompleted, { id: updateTask.id });
  const { task } = await execute(GetTask, { id: createTask.id });
  const first = await execute(ListTasks, {
    filter: {
      status: "PENDING",
      priority: "HIGH",
      search: "plumber",
      dueBefore: "2031-01-01T00:00:00Z",
    },
    orderBy: { field: "DUE_DATE", direction: "ASC" },
    first: 20,
  });
  const next = first.tasks.pageInfo.hasNextPage
    ? await execute(ListTasks, { first: 20, after: first.tasks.pageInfo.endCursor })
    : null;
  const { deleteTask } = await execute(DeleteTask, { id: createTask.id });
  return [
    `${me.name ?? me.id} has ${me.taskCounts.total} tasks, ${me.taskCounts.inProgress} in progress`,
    `${task?.title ?? "gone"}: ${task?.status}, due ${task?.dueDate ?? "whenever"}, v${task?.version}`,
    `completed ${setTaskCompleted.completedAt}, then ${toggleTaskCompleted.completed ? "done" : "open"}`,
    `${first.tasks.totalCount} found: ${first.tasks.nodes.map((node) => node.title).join(", ")}`,
    `${next?.tasks.nodes.length ?? 0} more; deleted ${deleteTask}`,
  ];
}

/** A stale expectedVersion is a CONFLICT the chatbot can explain. */
export async function renameCarefully(
  execute: Execute,
  id: string,
  title: string,
  version: number,
): Promise<string> {
  try {
    const { updateTask } = await execute(UpdateTask, {
      id,
      input: { title },
      expectedVersion: version,
    });
    return `renamed to ${updateTask.title}`;
  } catch (error) {
    if (error instanceof GraphQLError && error.code === "CONFLICT")
      return "someone changed it first";
    throw error;
  }
}
