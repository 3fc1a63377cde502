package config

// Lambda is one function's settings: functions.<name> in routes.yaml.
type Lambda struct {
	// MemoryMB is the function's memory. Lambda gives CPU in proportion to
	// it (1,769 MB is one vCPU), so it sets the speed of CPU-bound work too.
	MemoryMB int
}

// Lambda's memory range, 1-MB steps: "You can configure memory between
// 128 MB and 10,240 MB in 1-MB increments. At 1,769 MB, a function has the
// equivalent of one vCPU"
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
const (
	LambdaMinMemoryMB = 128
	LambdaMaxMemoryMB = 10240
	// LambdaMemoryPerVCPU is the memory at which a function gets one vCPU.
	LambdaMemoryPerVCPU = 1769
)

// DefaultMemoryMB is each function's memory when routes.yaml does not set
// it: Lambda's smallest for all three. docs/generate.md ("Lambda memory")
// has the measurements behind it: forward and notify wait on AWS APIs,
// deliver on the target, and at 128 MB each adds tens of milliseconds to
// what it waits for, at half the GB-seconds of 256 MB.
var DefaultMemoryMB = map[string]int{
	"forward": 128,
	"deliver": 128,
	"notify":  128,
}

// MemoryMB is the memory of one of the three functions (see Functions).
func (c *Config) MemoryMB(function string) int { return c.Lambdas[function].MemoryMB }

func defaultLambdas() map[string]Lambda {
	l := make(map[string]Lambda, len(Functions))
	for _, fn := range Functions {
		l[fn] = Lambda{MemoryMB: DefaultMemoryMB[fn]}
	}
	return l
}

// functions decodes the functions section over the defaults in c.Lambdas.
func (d *decoder) functions(f fields, c *Config) {
	for _, fn := range Functions {
		l := c.Lambdas[fn]
		f.sub(fn).intRange("memory_mb", &l.MemoryMB, LambdaMinMemoryMB, LambdaMaxMemoryMB,
			"Lambda memory in MB; it also sets the function's CPU share, one vCPU at 1769")
		c.Lambdas[fn] = l
	}
}
