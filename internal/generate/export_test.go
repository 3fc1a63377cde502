package generate

// Exported for the measurement tests (measured_test.go, package
// generate_test), which start the twin and the real functions: the twin
// imports this package, so they cannot live in it.

var (
	ExecutionLogs         = executionLogs
	LambdaLog             = lambdaLog
	ExecutionARN          = executionARN
	ExecutionLogBodyBytes = executionLogBodyBytes
	ExecutionLogARNBytes  = executionLogARNBytes
)

type (
	ExecutionLogKey = executionLogKey
	ExecutionLog    = executionLog
	LogVolume       = logVolume
)
