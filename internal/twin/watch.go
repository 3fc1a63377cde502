package twin

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// watchInterval is how often the twin looks at routes.yaml and workflows/.
const watchInterval = 2 * time.Second

// watcher notices when routes.yaml or the generated workflows change on disk
// after the twin started. The twin keeps running what it started with — a
// config and workflows that match, checked at start — so a change is said,
// once per change, in the log and on the page: what changed and to restart
// (after go run ./cmd/generate, when routes.yaml changed).
type watcher struct {
	configPath, workflowsDir string
	started                  [2][32]byte // routes.yaml's and workflows/'s digests at start
	stop                     chan struct{}
	done                     chan struct{}

	mu    sync.Mutex
	stale []string
}

// newWatcher takes the digests to compare with: call it before loading what
// it watches, so a change made while the twin starts is noticed too.
func newWatcher(configPath, workflowsDir string) *watcher {
	w := &watcher{configPath: configPath, workflowsDir: workflowsDir, stop: make(chan struct{}), done: make(chan struct{})}
	w.started = w.digests()
	return w
}

// start looks every watchInterval until Stop; report receives each note
// once per change.
func (w *watcher) start(report func(string)) {
	go func() {
		defer close(w.done)
		t := time.NewTicker(watchInterval)
		defer t.Stop()
		var said [2][32]byte = w.started
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			now := w.digests()
			if now == said {
				continue
			}
			said = now
			var notes []string
			if now[0] != w.started[0] {
				notes = append(notes, fmt.Sprintf("%s changed since the twin started; it still runs the routes it started with: "+
					"run go run ./cmd/generate, then restart the twin (Ctrl-C, go run ./cmd/local) to use it", w.configPath))
			}
			if now[1] != w.started[1] {
				notes = append(notes, fmt.Sprintf("%s changed since the twin started; it still runs the workflows it started with: "+
					"restart the twin (Ctrl-C, go run ./cmd/local) to use them", w.workflowsDir))
			}
			w.mu.Lock()
			w.stale = notes
			w.mu.Unlock()
			for _, n := range notes {
				report(n)
			}
		}
	}()
}

// digests are routes.yaml's and the workflows' contents' SHA-256; a file that
// cannot be read digests as its error, so a deletion is a change too.
func (w *watcher) digests() [2][32]byte {
	cfg, err := os.ReadFile(w.configPath)
	if err != nil {
		cfg = []byte(err.Error())
	}
	h := sha256.New()
	files, err := filepath.Glob(filepath.Join(w.workflowsDir, "*.asl.json"))
	if err != nil {
		h.Write([]byte(err.Error()))
	}
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			b = []byte(err.Error())
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(f), len(b))
		h.Write(b)
	}
	var out [2][32]byte
	out[0] = sha256.Sum256(cfg)
	copy(out[1][:], h.Sum(nil))
	return out
}

// Stale says what changed on disk since the twin started, and what to do.
func (w *watcher) Stale() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.stale)
}

func (w *watcher) Stop() {
	close(w.stop)
	<-w.done
}
