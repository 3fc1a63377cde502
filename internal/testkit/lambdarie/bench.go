package lambdarie

import (
	"testing"
	"time"
)

// Bench measures f the way the memory benchmarks report a function: the
// first invocation (start, init and the work) is timed apart, then b.Loop
// invokes event warm; check judges every answer. It reports the first
// invocation's milliseconds, the CPU milliseconds per warm invocation and
// the peak RSS, naming the unit of work (a "batch", a "delivery").
func (f *Function) Bench(b *testing.B, event []byte, unit string, check func(testing.TB, []byte)) {
	b.Helper()
	start := time.Now()
	check(b, f.Invoke(b, event))
	first := time.Since(start)
	cold := f.mustUsage(b)
	invokes := 0
	for b.Loop() {
		check(b, f.Invoke(b, event))
		invokes++
	}
	warm := f.mustUsage(b)
	b.ReportMetric(float64(first.Milliseconds()), "ms/first-"+unit)
	b.ReportMetric((warm.CPUSeconds-cold.CPUSeconds)*1000/float64(invokes), "cpu-ms/"+unit)
	b.ReportMetric(float64(warm.PeakRSSBytes)/(1<<20), "peak-RSS-MB")
}

func (f *Function) mustUsage(tb testing.TB) Usage {
	tb.Helper()
	u, err := f.Usage()
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
