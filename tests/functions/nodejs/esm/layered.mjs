// An ES module importing packages from a layer: Lambda's nodejs18.x and later search
// NODE_PATH for ES modules too (node itself does not).
import greet from "greet";
import greet20 from "greet20";
export const handler = async () => ({ greet: greet("esm"), greet20: greet20() });
