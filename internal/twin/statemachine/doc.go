// Package statemachine is the local twin's Step Functions: it runs the
// workflows internal/generate/asl builds (workflows/<route>.asl.json, the files
// Terraform deploys) the way an Express state machine runs them under
// StartSyncExecution, and records each execution's history.
//
// What it runs is what the generator emits, implemented to the ASL
// specification and Step Functions' documented behaviour:
//
//   - states: Task (arn:aws:states:::lambda:invoke, with Lambda's Invoke
//     response under Payload, or a Lambda function ARN), Choice, Pass, Wait,
//     Succeed, Fail (Error/Cause, ErrorPath/CausePath);
//   - Retry (IntervalSeconds, BackoffRate, MaxDelaySeconds, JitterStrategy,
//     MaxAttempts, the first matching retrier decides) and Catch (ResultPath);
//     States.ALL matches every error but States.Runtime, States.TaskFailed
//     every error but States.Timeout; Task TimeoutSeconds → States.Timeout;
//   - InputPath, Parameters, ResultSelector, ResultPath (null included),
//     OutputPath; reference paths ($.a.b, $.a[0], $['x']) and the context
//     object ($$.Execution.Id/Name/StartTime/Input/RoleArn,
//     $$.StateMachine.Id/Name, $$.State.Name/EnteredTime/RetryCount);
//   - the intrinsics States.Format, StringToJson, JsonToString, Array,
//     ArrayLength, ArrayGetItem, ArrayContains, MathAdd, Base64Encode,
//     Base64Decode and StringSplit.
//
// Anything else (Map, Parallel, other integrations, JSONata, wildcard or
// filter paths) is refused by Compile with a message, never half-run. A
// missing path is States.Runtime, which nothing retries or catches, as on AWS.
//
// Step Functions' payload limit is enforced (Runner.DataLimit, 262,144 bytes
// by default): a state's input or output, a task's parameters or result
// larger than it, measured as compact JSON, fails the execution with
// States.DataLimitExceeded, which, as on AWS, no Retry or Catch takes; an
// execution input larger than it is refused before the execution starts.
//
// Time and randomness are injected (Clock, Rand): tests run a five-minute
// retry schedule on a virtual clock in microseconds. The retry wait is the
// pure function RetryDelay.
//
// Executions end SUCCEEDED, FAILED or TIMED_OUT (past the definition's
// TimeoutSeconds or the Express limit of five minutes). Each keeps a
// console-like history (ExecutionStarted, <Type>StateEntered/Exited with
// input and output, TaskScheduled/Succeeded/Failed/TimedOut, RetryScheduled
// with its wait, ErrorCaught, ExecutionSucceeded/Failed/TimedOut) in a
// HistoryStore: MemoryHistory for tests, BoltHistory in the twin's bbolt file
// (durable across restarts, bounded to the newest DefaultKeep executions,
// written behind in batched commits; Close it before the database).
//
// LoadWorkflows reads the workflow files and refuses stale ones (the fix is
// always "go run ./cmd/generate"); Render fills the Terraform templatefile
// placeholders with local function names and compiles the result.
package statemachine
