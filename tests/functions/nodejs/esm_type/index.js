// An ES module by its package.json's "type": "module".
import { basename } from "node:path";
export const handler = async () => ({ style: "esm-type", file: basename(import.meta.url) });
