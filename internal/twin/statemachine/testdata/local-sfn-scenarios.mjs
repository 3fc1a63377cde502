// Runs scenario executions on aws-local-stepfunctions, the Task states
// replaced by scripted handlers, for the differential test in
// differential_test.go. Reads {modules, runs: [...]} on stdin and writes one
// result per run on stdout.
//
// Each run: {name, definition, input, context, script: {Deliver: [...], Notify: [...]},
// taskTimeoutSeconds}. Outcomes: ok, retryable, permanent, throttled, timeout
// (the handler answers after the task's TimeoutSeconds).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const request = JSON.parse(readFileSync(0, "utf8"));
const { StateMachine } = await import(
  pathToFileURL(join(request.modules, "aws-local-stepfunctions", "build", "main.node.esm.js")).href
);

// A Lambda function error as Step Functions reports it: named after
// errorType, the function's error document as the cause.
function functionError(type, message) {
  const err = new Error(JSON.stringify({ errorMessage: message, errorType: type }));
  err.name = type;
  return err;
}

const validated = new Set();

async function runOne(run) {
  const calls = { Deliver: [], Notify: [] };
  const definition = structuredClone(run.definition);
  // The tool times tasks out on the wall clock only: shorten TimeoutSeconds
  // so a timeout scenario takes a second, not the workflow's real budget.
  for (const state of Object.values(definition.States)) {
    if (state.Type === "Task") state.TimeoutSeconds = run.taskTimeoutSeconds;
  }
  // $$.State.RetryCount: the tool has no such field; a getter counts the
  // Deliver calls made so far in this execution, which is what Step Functions
  // reports to the Deliver state's Parameters.
  const context = structuredClone(run.context);
  context.State = {
    get RetryCount() {
      return calls.Deliver.length;
    },
  };
  const handler = (state) => async (input) => {
    const n = calls[state].length;
    // What the function receives: the Payload of the lambda:invoke Parameters.
    calls[state].push(input.Payload);
    const script = run.script[state] ?? [];
    const outcome = script[Math.min(n, script.length - 1)];
    switch (outcome) {
      case "ok":
        // The lambda:invoke result shape: the function's answer under Payload.
        return { Payload: { status: 204, attempt: n + 1, latencyMs: 0 }, StatusCode: 200, ExecutedVersion: "$LATEST" };
      case "retryable":
        throw functionError("Webhook.Retryable", "target answered 503");
      case "permanent":
        throw functionError("Webhook.Permanent", "target answered 400");
      case "throttled": {
        const err = new Error("Rate Exceeded.");
        err.name = "Lambda.TooManyRequestsException";
        throw err;
      }
      case "timeout":
        return new Promise((resolve) => setTimeout(() => resolve({ Payload: { late: true } }), run.taskTimeoutSeconds * 1000 + 500));
      default:
        throw new Error(`no script for ${state} call ${n + 1}`);
    }
  };
  // The tool validates with asl-validator; once per distinct workflow is
  // enough (it compiles its schema on every construction, seconds each).
  const key = JSON.stringify(run.definition);
  const noValidate = validated.has(key);
  validated.add(key);
  const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, noValidate } });
  const execution = machine.run(run.input, {
    context,
    overrides: {
      taskResourceLocalHandlers: { Deliver: handler("Deliver"), Notify: handler("Notify") },
      retryIntervalOverrides: { Deliver: 0, Notify: 0 },
    },
  });
  const result = { name: run.name, calls };
  try {
    result.output = await execution.result;
    result.status = "SUCCEEDED";
  } catch (err) {
    const cause = err.cause ?? err;
    result.status = "FAILED";
    result.error = cause.name;
    result.cause = cause.message;
  }
  return result;
}

const results = await Promise.all(request.runs.map(runOne));
process.stdout.write(JSON.stringify(results));
process.exit(0);
