package sqsapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/twin/fifo"
)

// FuzzServeHTTP feeds arbitrary operations and bodies to the server: it must
// never panic, and must always answer with JSON — a result, or an error whose
// __type is in the SQS namespace.
func FuzzServeHTTP(f *testing.F) {
	store, err := fifo.Open(filepath.Join(f.TempDir(), "fuzz.db"), fifo.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	if err := store.CreateQueue("f.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}); err != nil {
		f.Fatal(err)
	}
	srv := New(store, "")
	url := "http://x/000000000000/f.fifo"
	for _, seed := range []struct{ op, body string }{
		{"SendMessage", `{"QueueUrl":"` + url + `","MessageBody":"hi","MessageGroupId":"g","MessageAttributes":{"a":{"DataType":"Binary","BinaryValue":"AAE="}}}`},
		{"SendMessageBatch", `{"QueueUrl":"` + url + `","Entries":[{"Id":"1","MessageBody":"x","MessageGroupId":"g"}]}`},
		{"ReceiveMessage", `{"QueueUrl":"` + url + `","MaxNumberOfMessages":10,"AttributeNames":["All"],"MessageAttributeNames":["a.*"]}`},
		{"DeleteMessage", `{"QueueUrl":"` + url + `","ReceiptHandle":"Zi5maWZvLzEvYWI"}`},
		{"ChangeMessageVisibilityBatch", `{"QueueUrl":"` + url + `","Entries":[{"Id":"a","ReceiptHandle":"x","VisibilityTimeout":-1}]}`},
		{"CreateQueue", `{"QueueName":"n.fifo","Attributes":{"FifoQueue":"true","RedrivePolicy":"{\"maxReceiveCount\":\"x\"}"}}`},
		{"SetQueueAttributes", `{"QueueUrl":"` + url + `","Attributes":{"VisibilityTimeout":"1e9"}}`},
		{"StartMessageMoveTask", `{"SourceArn":"arn:aws:sqs:us-east-1:000000000000:f.fifo","MaxNumberOfMessagesPerSecond":0}`},
		{"ListQueues", `{"MaxResults":-5,"NextToken":"\u0000"}`},
		{"GetQueueAttributes", `{"QueueUrl":"/","AttributeNames":["All","Nope"]}`},
	} {
		f.Add(seed.op, seed.body)
	}
	f.Fuzz(func(t *testing.T, op, body string) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, "POST", "http://x/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AmazonSQS."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s %q: status %d, body not a JSON object: %q", op, body, rec.Code, rec.Body.String())
		}
		if rec.Code != 200 {
			if typ, _ := doc["__type"].(string); !strings.HasPrefix(typ, "com.amazonaws.sqs#") || rec.Header().Get("x-amzn-query-error") == "" {
				t.Fatalf("%s %q: error %d without an SQS error shape: %v", op, body, rec.Code, doc)
			}
		}
	})
}
