package sqsapi

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/twin/fifo"
)

type queueInput struct {
	QueueUrl string
}

// createQueueInput omits the tags member: the twin keeps no tags.
type createQueueInput struct {
	QueueName  string
	Attributes map[string]string
}

func createQueue(_ context.Context, s *Server, r *http.Request, in *createQueueInput) (any, error) {
	if in.QueueName == "" {
		return nil, newAPIError("MissingParameter", "The request must contain the parameter QueueName.")
	}
	if err := s.store.CreateQueue(in.QueueName, in.Attributes); err != nil {
		return nil, err
	}
	return map[string]string{"QueueUrl": s.queueURL(r, in.QueueName)}, nil
}

func getQueueURL(_ context.Context, s *Server, r *http.Request, in *struct{ QueueName string }) (any, error) {
	if _, err := s.store.Stats(in.QueueName); err != nil {
		return nil, err
	}
	return map[string]string{"QueueUrl": s.queueURL(r, in.QueueName)}, nil
}

type getQueueAttributesInput struct {
	QueueUrl       string
	AttributeNames []string
}

// readableAttributes are the names GetQueueAttributes accepts besides "All".
var readableAttributes = []string{
	fifo.AttrVisibilityTimeout, fifo.AttrMessageRetentionPeriod, fifo.AttrDelaySeconds,
	fifo.AttrReceiveMessageWaitTimeSeconds, fifo.AttrMaximumMessageSize, fifo.AttrRedrivePolicy,
	fifo.AttrRedriveAllowPolicy, fifo.AttrFifoQueue, fifo.AttrContentBasedDeduplication,
	fifo.AttrDeduplicationScope, fifo.AttrFifoThroughputLimit, fifo.AttrPolicy,
	fifo.AttrSqsManagedSseEnabled, fifo.AttrKmsMasterKeyID, fifo.AttrKmsDataKeyReusePeriodSeconds,
	fifo.AttrQueueArn, fifo.AttrApproximateNumberOfMessages, fifo.AttrApproximateNumberOfMessagesNotVisible,
	fifo.AttrApproximateNumberOfMessagesDelayed, fifo.AttrCreatedTimestamp, fifo.AttrLastModifiedTimestamp,
}

func getQueueAttributes(_ context.Context, s *Server, _ *http.Request, in *getQueueAttributesInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	all, err := s.store.QueueAttributes(name)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, a := range in.AttributeNames {
		if a != "All" && !slices.Contains(readableAttributes, a) {
			return nil, newAPIError("InvalidAttributeName", "Unknown Attribute %s.", a)
		}
		if v, ok := all[a]; ok {
			out[a] = v
		}
	}
	if slices.Contains(in.AttributeNames, "All") {
		out = all
	}
	if len(out) == 0 {
		return struct{}{}, nil
	}
	return map[string]any{"Attributes": out}, nil
}

type setQueueAttributesInput struct {
	QueueUrl   string
	Attributes map[string]string
}

func setQueueAttributes(_ context.Context, s *Server, _ *http.Request, in *setQueueAttributesInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.store.SetQueueAttributes(name, in.Attributes)
}

type listQueuesInput struct {
	QueueNamePrefix string
	MaxResults      int
	NextToken       string
}

func listQueues(_ context.Context, s *Server, r *http.Request, in *listQueuesInput) (any, error) {
	names := s.store.QueueNames(in.QueueNamePrefix)
	return s.pageOfURLs(r, names, in.MaxResults, in.NextToken, "QueueUrls")
}

// pageOfURLs pages queue URLs; the token is the last name returned. Without
// MaxResults, SQS returns up to 1000 and no token.
func (s *Server) pageOfURLs(r *http.Request, names []string, max int, token, field string) (any, error) {
	if max < 0 || max > 1000 {
		return nil, newAPIError("InvalidParameterValue", "Value %d for parameter MaxResults is invalid. Reason: Must be between 1 and 1000.", max)
	}
	if token != "" {
		i, _ := slices.BinarySearch(names, token)
		for i < len(names) && names[i] <= token {
			i++
		}
		names = names[i:]
	}
	limit := max
	if limit == 0 {
		limit = 1000
	}
	out := map[string]any{}
	if len(names) > limit {
		names = names[:limit]
		if max > 0 {
			out["NextToken"] = names[len(names)-1]
		}
	}
	urls := make([]string, len(names))
	for i, n := range names {
		urls[i] = s.queueURL(r, n)
	}
	if len(urls) > 0 {
		out[field] = urls
	}
	return out, nil
}

func deleteQueue(_ context.Context, s *Server, _ *http.Request, in *queueInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.store.DeleteQueue(name)
}

func purgeQueue(_ context.Context, s *Server, _ *http.Request, in *queueInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.store.Purge(name)
}

type listDLQSourcesInput struct {
	QueueUrl   string
	MaxResults int
	NextToken  string
}

func listDeadLetterSourceQueues(_ context.Context, s *Server, r *http.Request, in *listDLQSourcesInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	names, err := s.store.DeadLetterSourceQueues(name)
	if err != nil {
		return nil, err
	}
	out, err := s.pageOfURLs(r, names, in.MaxResults, in.NextToken, "queueUrls")
	if m, ok := out.(map[string]any); ok && m["queueUrls"] == nil {
		m["queueUrls"] = []string{} // required member of the output shape
	}
	return out, err
}

// messageAttributeValue is the wire form of a message attribute; BinaryValue
// is base64 in JSON, which encoding/json does for []byte.
type messageAttributeValue struct {
	DataType    string
	StringValue *string `json:",omitempty"`
	BinaryValue []byte  `json:",omitempty"`
}

type sendEntry struct {
	Id                     string
	MessageBody            *string
	DelaySeconds           *int
	MessageAttributes      map[string]messageAttributeValue
	MessageDeduplicationId string
	MessageGroupId         string
}

type sendMessageInput struct {
	QueueUrl string
	sendEntry
}

func (e *sendEntry) toInput() (fifo.SendInput, error) {
	if e.MessageBody == nil {
		return fifo.SendInput{}, newAPIError("MissingParameter", "The request must contain the parameter MessageBody.")
	}
	in := fifo.SendInput{Body: *e.MessageBody, GroupID: e.MessageGroupId, DeduplicationID: e.MessageDeduplicationId}
	if e.DelaySeconds != nil {
		in.Delay = time.Duration(*e.DelaySeconds) * time.Second
	}
	if len(e.MessageAttributes) > 0 {
		in.Attributes = make(map[string]fifo.Attribute, len(e.MessageAttributes))
		for name, v := range e.MessageAttributes {
			a := fifo.Attribute{DataType: v.DataType, BinaryValue: v.BinaryValue}
			if v.StringValue != nil {
				a.StringValue = *v.StringValue
			}
			in.Attributes[name] = a
		}
	}
	return in, nil
}

type sendResult struct {
	Id                     string `json:",omitempty"`
	MessageId              string
	MD5OfMessageBody       string
	MD5OfMessageAttributes string `json:",omitempty"`
	SequenceNumber         string `json:",omitempty"`
}

func toSendResult(id string, r fifo.SendResult) sendResult {
	return sendResult{Id: id, MessageId: r.MessageID, MD5OfMessageBody: r.MD5OfBody,
		MD5OfMessageAttributes: r.MD5OfMessageAttributes, SequenceNumber: r.SequenceNumber}
}

func sendMessage(_ context.Context, s *Server, _ *http.Request, in *sendMessageInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	msg, err := in.toInput()
	if err != nil {
		return nil, err
	}
	res, err := s.store.Send(name, msg)
	if err != nil {
		return nil, err
	}
	return toSendResult("", res), nil
}

type batchError struct {
	Id          string
	SenderFault bool
	Code        string
	Message     string
}

func toBatchError(id string, err error) batchError {
	e := toAPIError(err)
	return batchError{Id: id, SenderFault: !e.server, Code: e.code, Message: e.message}
}

var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkBatchIDs applies SQS's batch rules: 1-10 entries, distinct valid ids.
func checkBatchIDs(action string, ids []string) error {
	if len(ids) == 0 {
		return newAPIError("EmptyBatchRequest", "There should be at least one %sBatchRequestEntry in the request.", action)
	}
	if len(ids) > 10 {
		return newAPIError("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10. You have sent %d.", len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDPattern.MatchString(id) {
			return newAPIError("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return newAPIError("BatchEntryIdsNotDistinct", "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

type sendMessageBatchInput struct {
	QueueUrl string
	Entries  []sendEntry
}

type batchOutput[T any] struct {
	Successful []T
	Failed     []batchError
}

func sendMessageBatch(_ context.Context, s *Server, _ *http.Request, in *sendMessageBatchInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs("SendMessage", ids); err != nil {
		return nil, err
	}
	out := batchOutput[sendResult]{Successful: []sendResult{}, Failed: []batchError{}}
	var inputs []fifo.SendInput
	var inputIDs []string
	for _, e := range in.Entries {
		msg, err := e.toInput()
		if err != nil {
			out.Failed = append(out.Failed, toBatchError(e.Id, err))
			continue
		}
		inputs = append(inputs, msg)
		inputIDs = append(inputIDs, e.Id)
	}
	results, err := s.store.SendBatch(name, inputs)
	if err != nil {
		return nil, err
	}
	for i, r := range results {
		if r.Err != nil {
			out.Failed = append(out.Failed, toBatchError(inputIDs[i], r.Err))
			continue
		}
		out.Successful = append(out.Successful, toSendResult(inputIDs[i], r))
	}
	return out, nil
}

type receiveMessageInput struct {
	QueueUrl                    string
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	MaxNumberOfMessages         *int
	VisibilityTimeout           *int
	WaitTimeSeconds             *int
	ReceiveRequestAttemptId     string
}

type wireMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string                `json:",omitempty"`
	MD5OfMessageAttributes string                           `json:",omitempty"`
	MessageAttributes      map[string]messageAttributeValue `json:",omitempty"`
}

var systemAttributeNames = []string{
	"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
	"SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader", "DeadLetterQueueSourceArn",
}

func receiveMessage(ctx context.Context, s *Server, _ *http.Request, in *receiveMessageInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	var req fifo.ReceiveInput
	req.AttemptID = in.ReceiveRequestAttemptId
	if in.MaxNumberOfMessages != nil {
		req.MaxMessages = *in.MaxNumberOfMessages
		if req.MaxMessages == 0 {
			req.MaxMessages = -1 // explicit 0 is invalid, unlike absent
		}
	}
	if in.VisibilityTimeout != nil {
		d := time.Duration(*in.VisibilityTimeout) * time.Second
		req.VisibilityTimeout = &d
	}
	if in.WaitTimeSeconds != nil {
		d := time.Duration(*in.WaitTimeSeconds) * time.Second
		req.WaitTime = &d
	}
	wanted := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	for _, a := range wanted {
		if a != "All" && !slices.Contains(systemAttributeNames, a) {
			return nil, newAPIError("InvalidAttributeName", "Unknown Attribute %s.", a)
		}
	}
	msgs, err := s.store.Receive(ctx, name, req)
	if err != nil {
		return nil, err
	}
	out := make([]wireMessage, len(msgs))
	for i, m := range msgs {
		out[i] = wireMessage{MessageId: m.MessageID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body}
		out[i].Attributes = systemAttributes(m, wanted, s.accountID)
		attrs := selectAttributes(m.Attributes, in.MessageAttributeNames)
		if len(attrs) > 0 {
			out[i].MD5OfMessageAttributes = fifo.MD5OfMessageAttributes(attrs)
			out[i].MessageAttributes = make(map[string]messageAttributeValue, len(attrs))
			for n, a := range attrs {
				v := messageAttributeValue{DataType: a.DataType, BinaryValue: a.BinaryValue}
				if !strings.HasPrefix(a.DataType, "Binary") {
					sv := a.StringValue
					v.StringValue = &sv
				}
				out[i].MessageAttributes[n] = v
			}
		}
	}
	if len(out) == 0 {
		return struct{}{}, nil
	}
	return map[string]any{"Messages": out}, nil
}

func systemAttributes(m fifo.Message, wanted []string, accountID string) map[string]string {
	all := map[string]string{
		"SenderId":                accountID,
		"SentTimestamp":           strconv.FormatInt(m.SentTimestamp.UnixMilli(), 10),
		"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount),
	}
	if !m.FirstReceiveTimestamp.IsZero() {
		all["ApproximateFirstReceiveTimestamp"] = strconv.FormatInt(m.FirstReceiveTimestamp.UnixMilli(), 10)
	}
	if m.SequenceNumber != "" {
		all["SequenceNumber"] = m.SequenceNumber
		all["MessageDeduplicationId"] = m.DeduplicationID
		all["MessageGroupId"] = m.GroupID
	}
	if m.DeadLetterSourceARN != "" {
		all["DeadLetterQueueSourceArn"] = m.DeadLetterSourceARN
	}
	if slices.Contains(wanted, "All") {
		return all
	}
	out := map[string]string{}
	for _, w := range wanted {
		if v, ok := all[w]; ok {
			out[w] = v
		}
	}
	return out
}

// selectAttributes filters message attributes by ReceiveMessage's
// MessageAttributeNames: "All" or ".*", exact names, or "prefix.*".
func selectAttributes(attrs map[string]fifo.Attribute, names []string) map[string]fifo.Attribute {
	out := map[string]fifo.Attribute{}
	for n, a := range attrs {
		for _, want := range names {
			prefix, isPrefix := strings.CutSuffix(want, ".*")
			if want == "All" || want == ".*" || want == n || (isPrefix && strings.HasPrefix(n, prefix+".")) {
				out[n] = a
				break
			}
		}
	}
	return out
}

type receiptInput struct {
	QueueUrl      string
	ReceiptHandle string
}

func deleteMessage(_ context.Context, s *Server, _ *http.Request, in *receiptInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if in.ReceiptHandle == "" {
		return nil, newAPIError("MissingParameter", "The request must contain the parameter ReceiptHandle.")
	}
	return struct{}{}, s.store.Delete(name, in.ReceiptHandle)
}

type receiptEntry struct {
	Id                string
	ReceiptHandle     string
	VisibilityTimeout int
}

type receiptBatchInput struct {
	QueueUrl string
	Entries  []receiptEntry
}

type batchID struct{ Id string }

// batchOutcome checks a receipt batch's ids, runs it (one commit in the
// store) and sorts the entries into Successful and Failed.
func batchOutcome(action string, entries []receiptEntry, run func() ([]error, error)) (any, error) {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs(action, ids); err != nil {
		return nil, err
	}
	errs, err := run()
	if err != nil {
		return nil, err
	}
	out := batchOutput[batchID]{Successful: []batchID{}, Failed: []batchError{}}
	for i, e := range entries {
		if errs[i] != nil {
			out.Failed = append(out.Failed, toBatchError(e.Id, errs[i]))
			continue
		}
		out.Successful = append(out.Successful, batchID{Id: e.Id})
	}
	return out, nil
}

func deleteMessageBatch(_ context.Context, s *Server, _ *http.Request, in *receiptBatchInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return batchOutcome("DeleteMessage", in.Entries, func() ([]error, error) {
		handles := make([]string, len(in.Entries))
		for i, e := range in.Entries {
			handles[i] = e.ReceiptHandle
		}
		return s.store.DeleteBatch(name, handles)
	})
}

type changeVisibilityInput struct {
	QueueUrl          string
	ReceiptHandle     string
	VisibilityTimeout *int
}

func changeMessageVisibility(_ context.Context, s *Server, _ *http.Request, in *changeVisibilityInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if in.VisibilityTimeout == nil {
		return nil, newAPIError("MissingParameter", "The request must contain the parameter VisibilityTimeout.")
	}
	return struct{}{}, s.store.ChangeVisibility(name, in.ReceiptHandle, time.Duration(*in.VisibilityTimeout)*time.Second)
}

func changeMessageVisibilityBatch(_ context.Context, s *Server, _ *http.Request, in *receiptBatchInput) (any, error) {
	name, err := queueName(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return batchOutcome("ChangeMessageVisibility", in.Entries, func() ([]error, error) {
		changes := make([]fifo.VisibilityChange, len(in.Entries))
		for i, e := range in.Entries {
			changes[i] = fifo.VisibilityChange{ReceiptHandle: e.ReceiptHandle, Timeout: time.Duration(e.VisibilityTimeout) * time.Second}
		}
		return s.store.ChangeVisibilityBatch(name, changes)
	})
}

type startMoveTaskInput struct {
	SourceArn                    string
	DestinationArn               string
	MaxNumberOfMessagesPerSecond *int
}

func startMessageMoveTask(_ context.Context, s *Server, _ *http.Request, in *startMoveTaskInput) (any, error) {
	rate := 0
	if in.MaxNumberOfMessagesPerSecond != nil {
		rate = *in.MaxNumberOfMessagesPerSecond
		if rate == 0 {
			rate = -1 // explicit 0 is out of range
		}
	}
	handle, err := s.store.StartMoveTask(in.SourceArn, in.DestinationArn, rate)
	if err != nil {
		return nil, err
	}
	return map[string]string{"TaskHandle": handle}, nil
}

type moveTaskEntry struct {
	TaskHandle                        string `json:",omitempty"`
	Status                            string
	SourceArn                         string
	DestinationArn                    string `json:",omitempty"`
	MaxNumberOfMessagesPerSecond      int    `json:",omitempty"`
	ApproximateNumberOfMessagesMoved  int64
	ApproximateNumberOfMessagesToMove int64
	FailureReason                     string `json:",omitempty"`
	StartedTimestamp                  int64
}

func listMessageMoveTasks(_ context.Context, s *Server, _ *http.Request, in *struct {
	SourceArn  string
	MaxResults int
}) (any, error) {
	tasks, err := s.store.ListMoveTasks(in.SourceArn, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := make([]moveTaskEntry, len(tasks))
	for i, t := range tasks {
		out[i] = moveTaskEntry{
			Status: t.Status, SourceArn: t.SourceArn, DestinationArn: t.DestinationArn,
			MaxNumberOfMessagesPerSecond:     t.MaxNumberOfMessagesPerSecond,
			ApproximateNumberOfMessagesMoved: t.Moved, ApproximateNumberOfMessagesToMove: t.ToMove,
			FailureReason: t.FailureReason, StartedTimestamp: t.Started,
		}
		// SQS shows the handle only while the task can still be cancelled.
		if t.Status == fifo.MoveRunning {
			out[i].TaskHandle = t.TaskHandle
		}
	}
	return map[string]any{"Results": out}, nil
}

func cancelMessageMoveTask(_ context.Context, s *Server, _ *http.Request, in *struct{ TaskHandle string }) (any, error) {
	moved, err := s.store.CancelMoveTask(in.TaskHandle)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"ApproximateNumberOfMessagesMoved": moved}, nil
}
