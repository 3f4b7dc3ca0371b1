// An ES module ("type": "module") importing a package.json dependency: ES modules ignore
// NODE_PATH and find it only in a node_modules beside the code, as in Lambda's /var/task.
import ms from "ms";
import { readdirSync } from "node:fs";
export const handler = async () => ({
  ms: ms("2h"),
  from: import.meta.resolve("ms"),
  nodePath: process.env.NODE_PATH,
  task: readdirSync(process.env.LAMBDA_TASK_ROOT).sort(),
});
