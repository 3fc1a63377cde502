package twin_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/twin"
)

// TestIngressDropsASlowSender: a sender that announces a body and then
// trickles it cannot hold an ingress connection past IngressReadTimeout —
// the twin answers or closes, and queues nothing. Without the read timeout
// the connection stays open for as long as the sender likes.
func TestIngressDropsASlowSender(t *testing.T) {
	t.Parallel()
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, IngressReadTimeout: 200 * time.Millisecond})

	conn, err := net.Dial("tcp", strings.TrimPrefix(tw.IngressURL, "http://"))
	must(t, err)
	defer conn.Close()
	// Headers, then 10 of the 1,000 announced body bytes, then nothing.
	_, err = fmt.Fprintf(conn, "POST /hooks/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Event-Type: e\r\nX-Group: g\r\nContent-Length: 1000\r\n\r\n{\"n\":1,   ")
	must(t, err)

	// Far longer than the read timeout, far shorter than "forever".
	must(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("a trickled body was answered %d", resp.StatusCode)
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the ingress still holds the connection of a sender that stopped sending its body")
	}
	st, err := tw.Store().Stats(cfg.QueueName())
	must(t, err)
	if n := st.Visible + st.InFlight + st.Delayed; n != 0 {
		t.Errorf("%d message(s) queued from a body that never arrived", n)
	}
}
