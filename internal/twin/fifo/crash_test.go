package fifo

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The crash test re-runs this test binary as a child process that sends and
// receives under load and is killed with SIGKILL at a random moment.
const (
	crashDBEnv    = "FIFO_CRASH_CHILD_DB"
	crashRoundEnv = "FIFO_CRASH_CHILD_ROUND"
	crashQueue    = "crash.fifo"
	crashGroups   = 16
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashDBEnv); path != "" {
		crashChild(path, os.Getenv(crashRoundEnv))
		return
	}
	os.Exit(m.Run())
}

// crashChild sends from one goroutine per group and receives concurrently,
// printing each acknowledged operation; it runs until killed.
func crashChild(path, round string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := s.CreateQueue(crashQueue, map[string]string{AttrFifoQueue: "true", AttrContentBasedDeduplication: "true"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", args...) // unbuffered: in the pipe before the kill
		out.Unlock()
	}
	say("ready")
	for g := range crashGroups {
		go func() {
			for n := 0; ; n++ {
				body := fmt.Sprintf("g%02d/%s/%06d", g, round, n)
				if _, err := s.Send(crashQueue, SendInput{Body: body, GroupID: fmt.Sprintf("g%02d", g)}); err != nil {
					say("error %v", err)
					return
				}
				say("sent %s", body)
			}
		}()
	}
	vis, wait := 2*time.Second, time.Second
	for i := 0; ; i++ {
		msgs, err := s.Receive(context.Background(), crashQueue, ReceiveInput{MaxMessages: 10, VisibilityTimeout: &vis, WaitTime: &wait})
		if err != nil {
			say("error %v", err)
			return
		}
		for j, m := range msgs {
			say("received %s %d", m.Body, m.ReceiveCount)
			if (i+j)%2 == 0 {
				say("deleting %s", m.Body) // it may be gone after a crash even without "deleted"
				if err := s.Delete(crashQueue, m.ReceiptHandle); err != nil {
					say("error %v", err)
					return
				}
				say("deleted %s", m.Body)
			}
		}
	}
}

type crashLog struct {
	sent     []string
	received map[string]int
	deleting map[string]bool // a delete was attempted
	deleted  map[string]bool // a delete was acknowledged
}

func runCrashChild(t *testing.T, path string, round int, log *crashLog) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashRoundEnv+"="+strconv.Itoa(round))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start: %q", lines.Text())
	}
	killAfter := time.Duration(100+rand.IntN(400)) * time.Millisecond
	timer := time.AfterFunc(killAfter, func() { cmd.Process.Kill() })
	defer timer.Stop()
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		switch f[0] {
		case "sent":
			log.sent = append(log.sent, f[1])
		case "received":
			n, _ := strconv.Atoi(f[2])
			log.received[f[1]] = max(log.received[f[1]], n)
		case "deleting":
			log.deleting[f[1]] = true
		case "deleted":
			log.deleted[f[1]] = true
		case "error":
			t.Errorf("child round %d: %s", round, lines.Text())
		}
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.Success() {
		t.Fatalf("child round %d was not killed: %v", round, err)
	}
	t.Logf("round %d: killed after %v, %d sends acknowledged so far", round, killAfter, len(log.sent))
}

// TestCrashKeepsAcknowledgedMessagesInOrder kills a loaded writer at random
// points, several times over one file, and checks after each restart that
// every acknowledged send is there (unless its deletion was acknowledged), in
// group order, with no acknowledged delete undone and receive counts kept.
// A message whose delete was under way at the kill may be either.
func TestCrashKeepsAcknowledgedMessagesInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	log := &crashLog{received: map[string]int{}, deleting: map[string]bool{}, deleted: map[string]bool{}}
	for round := range 4 {
		runCrashChild(t, path, round, log)
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("reopen after round %d: %v", round, err)
		}
		msgs, err := s.List(crashQueue)
		if err != nil {
			t.Fatal(err)
		}
		present := map[string]Message{}
		lastInGroup := map[string]string{}
		for _, m := range msgs {
			if _, dup := present[m.Body]; dup {
				t.Errorf("round %d: %s stored twice", round, m.Body)
			}
			present[m.Body] = m
			// Bodies sort in send order within a group (round, then counter).
			if prev := lastInGroup[m.GroupID]; prev >= m.Body {
				t.Errorf("round %d: group %s out of order: %s after %s", round, m.GroupID, m.Body, prev)
			}
			lastInGroup[m.GroupID] = m.Body
		}
		for _, body := range log.sent {
			m, ok := present[body]
			switch {
			case log.deleted[body] && ok:
				t.Errorf("round %d: acknowledged delete of %s undone", round, body)
			case !log.deleting[body] && !ok:
				t.Errorf("round %d: acknowledged send %s lost", round, body)
			case ok && m.ReceiveCount < log.received[body]:
				t.Errorf("round %d: %s receive count %d, acknowledged %d", round, body, m.ReceiveCount, log.received[body])
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
	if len(log.sent) == 0 || len(log.deleted) == 0 {
		t.Fatalf("the children did no work: %d sent, %d deleted", len(log.sent), len(log.deleted))
	}
}
