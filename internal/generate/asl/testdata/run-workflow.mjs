// Runs a workflow definition in aws-local-stepfunctions with the Deliver and
// Notify Lambda invocations replaced by scripted local functions, for the Go
// tests in this package.
//
// stdin: {"modules": "<tools/node/node_modules>", "scenarios": [Scenario…]}
// Scenario: {
//   name, definition (rendered: the ARN placeholders already substituted),
//   input, context (the Context Object: Execution.Id, StateMachine.Name, State),
//   functions: {"<state name>": {"arn": expected FunctionName,
//                                "script": ["ok" | "<errorType>", …], "result": {…}}},
//   retryIntervalOverrides: {"<state name>": ms} | null (then the real waits run)
// }
// Each call consumes the next script entry (the last one repeats): "ok"
// answers with `result`, anything else fails the invocation with that
// errorType, as the lambda:invoke integration reports a function error.
// stdout: [{name, status, output, error, cause, calls: {"<state>": [{payload, atMs}]}}]
import { createRequire } from "node:module";
import path from "node:path";

const stdin = await new Promise((resolve, reject) => {
  let data = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
  process.stdin.on("error", reject);
});
const request = JSON.parse(stdin);
if (typeof Promise.withResolvers !== "function") {
  throw new Error("Promise.withResolvers is missing: run node with --import with-resolvers.mjs");
}
const require = createRequire(path.join(request.modules, "package.json"));
const { StateMachine, ExecutionError } = require("aws-local-stepfunctions");

// lambdaError is how the lambda:invoke integration reports a function error:
// the errorType is the error name, the cause is the function's error JSON.
function lambdaError(errorType, call) {
  const err = new Error(JSON.stringify({ errorType, errorMessage: `scripted failure of call ${call}` }));
  err.name = errorType;
  return err;
}

// The library validates a definition (asl-validator) whenever a StateMachine
// is constructed, which is slow; build one per distinct definition.
const machines = new Map();
function machineFor(definition) {
  const key = JSON.stringify(definition);
  if (!machines.has(key)) machines.set(key, new StateMachine(definition));
  return machines.get(key);
}

async function run(scenario) {
  const started = Date.now();
  const calls = {};
  // aws-local-stepfunctions passes the Context Object through unchanged; it
  // does not count retries. State.RetryCount is kept here as Step Functions
  // keeps it: the number of retries of the state so far (only Deliver reads it).
  const context = structuredClone(scenario.context);
  context.State = { ...(context.State ?? {}), RetryCount: 0 };
  const handlers = {};
  for (const [state, fn] of Object.entries(scenario.functions)) {
    calls[state] = [];
    handlers[state] = async (input) => {
      const n = calls[state].length;
      calls[state].push({ payload: input.Payload, atMs: Date.now() - started });
      if (input.FunctionName !== fn.arn) {
        throw lambdaError("Test.WrongFunction", n);
      }
      const step = fn.script[Math.min(n, fn.script.length - 1)];
      if (step === "ok") {
        return { StatusCode: 200, ExecutedVersion: "$LATEST", Payload: fn.result ?? {} };
      }
      context.State.RetryCount = n + 1;
      throw lambdaError(step, n);
    };
  }
  const execution = machineFor(scenario.definition).run(scenario.input, {
    context,
    overrides: {
      taskResourceLocalHandlers: handlers,
      ...(scenario.retryIntervalOverrides ? { retryIntervalOverrides: scenario.retryIntervalOverrides } : {}),
    },
  });
  const result = { name: scenario.name, calls };
  try {
    result.output = await execution.result;
    result.status = "SUCCEEDED";
  } catch (err) {
    if (!(err instanceof ExecutionError)) throw err;
    result.status = "FAILED";
    result.error = err.cause?.name;
    result.cause = err.cause?.message;
  }
  return result;
}

const results = [];
for (const scenario of request.scenarios) {
  results.push(await run(scenario));
}
process.stdout.write(JSON.stringify(results));
