// Package logsapi keeps the local twin's function logs the way CloudWatch
// Logs keeps a Lambda's — one log group per function, /aws/lambda/<name>,
// one event per line the function logs — and serves the reading half of
// the CloudWatch Logs API over its JSON protocol: DescribeLogGroups and
// FilterLogEvents. cmd/check reads deliver's and forward's lines from the
// twin exactly as it reads them from AWS, and so can the AWS CLI
// (aws logs filter-log-events --endpoint-url <control plane>).
//
// Events are kept in memory, the newest MaxEvents per group: a log for
// people and tools, not a store (a restart starts empty).
//
// Filter patterns: the twin matches terms and "quoted phrases", every one
// of which must appear in the message (CloudWatch's plain term patterns).
// The JSON ({ $.x = … }), OR (?term) and exclusion (-term) forms are
// answered InvalidParameterException.
package logsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxEvents is how many events a group keeps; older ones are dropped.
const MaxEvents = 10000

// targetPrefix is the X-Amz-Target prefix of the CloudWatch Logs API.
const targetPrefix = "Logs_20140328."

// maxRequestBytes bounds a request body (the reading operations are small).
const maxRequestBytes = 64 << 10

// maxPageEvents is FilterLogEvents' page size when the request sets none
// (AWS's default limit is 10,000 events).
const maxPageEvents = 10000

// Store holds the log groups. Safe for concurrent use.
type Store struct {
	region, account string
	now             func() time.Time

	mu     sync.Mutex
	groups map[string]*group
	nextID uint64
}

type group struct {
	created time.Time
	events  []event
}

type event struct {
	id        uint64
	stream    string
	timestamp int64 // epoch millis
	message   string
}

// NewStore returns an empty store whose ARNs name region and account.
func NewStore(region, account string) *Store {
	return &Store{region: region, account: account, now: time.Now, groups: map[string]*group{}}
}

// Writer returns an io.Writer that appends each line written to it as an
// event of the log group name (created now if new), in stream.
func (s *Store) Writer(name, stream string) io.Writer {
	s.mu.Lock()
	if s.groups[name] == nil {
		s.groups[name] = &group{created: s.now()}
	}
	s.mu.Unlock()
	return &lineWriter{store: s, group: name, stream: stream}
}

type lineWriter struct {
	store         *Store
	group, stream string
	mu            sync.Mutex
	partial       []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.store.append(w.group, w.stream, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
}

func (s *Store) append(name, stream, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[name]
	s.nextID++
	g.events = append(g.events, event{id: s.nextID, stream: stream, timestamp: s.now().UnixMilli(), message: message})
	if len(g.events) > MaxEvents {
		g.events = slices.Clone(g.events[len(g.events)-MaxEvents:])
	}
}

// apiError is a CloudWatch Logs error answer.
type apiError struct {
	status        int
	code, message string
}

func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if r.Method != http.MethodPost || !ok {
		writeError(w, apiError{http.StatusBadRequest, "UnknownOperationException", "POST with X-Amz-Target Logs_20140328.<operation>"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		writeError(w, apiError{http.StatusBadRequest, "InvalidParameterException", "unreadable or oversized request"})
		return
	}
	var out any
	var fail *apiError
	switch op {
	case "DescribeLogGroups":
		out, fail = s.describeLogGroups(body)
	case "FilterLogEvents":
		out, fail = s.filterLogEvents(body)
	default:
		fail = &apiError{http.StatusBadRequest, "UnknownOperationException", "the local twin answers DescribeLogGroups and FilterLogEvents only, not " + op}
	}
	if fail != nil {
		writeError(w, *fail)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, e apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.message})
}

func (s *Store) describeLogGroups(body []byte) (any, *apiError) {
	var in struct {
		LogGroupNamePrefix string `json:"logGroupNamePrefix"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type logGroup struct {
		LogGroupName string `json:"logGroupName"`
		Arn          string `json:"arn"`
		CreationTime int64  `json:"creationTime"`
		StoredBytes  int64  `json:"storedBytes"`
	}
	groups := []logGroup{}
	for _, name := range slices.Sorted(mapKeys(s.groups)) {
		if !strings.HasPrefix(name, in.LogGroupNamePrefix) {
			continue
		}
		var stored int64
		for _, e := range s.groups[name].events {
			stored += int64(len(e.message))
		}
		groups = append(groups, logGroup{LogGroupName: name, Arn: s.arn(name), CreationTime: s.groups[name].created.UnixMilli(), StoredBytes: stored})
	}
	return map[string]any{"logGroups": groups}, nil
}

func (s *Store) arn(name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", s.region, s.account, name)
}

func (s *Store) filterLogEvents(body []byte) (any, *apiError) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		FilterPattern string `json:"filterPattern"`
		StartTime     int64  `json:"startTime"`
		EndTime       int64  `json:"endTime"`
		Limit         int    `json:"limit"`
		NextToken     string `json:"nextToken"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", err.Error()}
	}
	terms, err := ParsePattern(in.FilterPattern)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", err.Error()}
	}
	limit := in.Limit
	if limit <= 0 || limit > maxPageEvents {
		limit = maxPageEvents
	}
	var after uint64
	if in.NextToken != "" {
		if after, err = strconv.ParseUint(in.NextToken, 10, 64); err != nil {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "invalid nextToken"}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[in.LogGroupName]
	if g == nil {
		return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist."}
	}
	type outEvent struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
		EventID       string `json:"eventId"`
	}
	events := []outEvent{}
	next := ""
	var last uint64
	for _, e := range g.events {
		switch {
		case e.id <= after,
			in.StartTime > 0 && e.timestamp < in.StartTime,
			in.EndTime > 0 && e.timestamp > in.EndTime,
			!matches(terms, e.message):
			continue
		}
		if len(events) == limit {
			// More match: the next page starts after the last one sent.
			next = strconv.FormatUint(last, 10)
			break
		}
		events = append(events, outEvent{LogStreamName: e.stream, Timestamp: e.timestamp, Message: e.message, IngestionTime: e.timestamp, EventID: strconv.FormatUint(e.id, 10)})
		last = e.id
	}
	out := map[string]any{"events": events, "searchedLogStreams": []any{}}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// ParsePattern reads a filter pattern of terms and "quoted phrases" (all
// must appear); other CloudWatch pattern forms are an error naming them.
func ParsePattern(p string) ([]string, error) {
	var terms []string
	rest := strings.TrimSpace(p)
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, `"`):
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("filter pattern %q: unterminated quote", p)
			}
			terms = append(terms, rest[1:1+end])
			rest = rest[2+end:]
		case strings.HasPrefix(rest, "{"), strings.HasPrefix(rest, "["), strings.HasPrefix(rest, "?"), strings.HasPrefix(rest, "-"):
			return nil, fmt.Errorf("filter pattern %q: the local twin matches terms and quoted phrases only", p)
		default:
			end := strings.IndexAny(rest, " \t")
			if end < 0 {
				end = len(rest)
			}
			terms = append(terms, rest[:end])
			rest = rest[end:]
		}
		rest = strings.TrimSpace(rest)
	}
	return terms, nil
}

func matches(terms []string, message string) bool {
	for _, t := range terms {
		if !strings.Contains(message, t) {
			return false
		}
	}
	return true
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
