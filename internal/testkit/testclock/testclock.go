// Package testclock is the settable clock unit tests inject where a core
// takes a func() time.Time or a Now method: it moves only when a test
// advances it, and is safe to read from the goroutines the core starts.
package testclock

import (
	"sync"
	"time"
)

// Clock is a time that moves only by Advance.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New is a Clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
