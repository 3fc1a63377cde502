package statemachine

import (
	"slices"
	"sync"
)

// StatusRunning is an execution under way: listed by Runner.Running, never
// in a HistoryStore (which keeps finished executions).
const StatusRunning Status = "RUNNING"

// runningSet holds the executions under way, without their events (those
// are written by the execution alone until it ends).
type runningSet struct {
	mu   sync.Mutex
	byID map[string]Execution
}

func (s *runningSet) add(e Execution) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]Execution{}
	}
	e.Status, e.Events, e.Input = StatusRunning, nil, nil
	s.byID[e.ARN] = e
}

func (s *runningSet) remove(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, arn)
}

// Running returns the executions under way that f matches (its Status
// ignored), the newest first, without their events or input.
func (r *Runner) Running(f Filter) []Execution {
	r.running.mu.Lock()
	out := make([]Execution, 0, len(r.running.byID))
	f.Status = StatusRunning
	for _, e := range r.running.byID {
		if f.match(&e) {
			out = append(out, e)
		}
	}
	r.running.mu.Unlock()
	slices.SortFunc(out, func(a, b Execution) int { return b.Start.Compare(a.Start) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}
