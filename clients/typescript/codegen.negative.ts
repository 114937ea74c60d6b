// Expected to FAIL: negative/wrong-operation.graphql asks for a field the schema does not have.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["negative/wrong-operation.graphql"],
  generates: { "generated/negative/": { preset: "client" } },
};

export default config;
