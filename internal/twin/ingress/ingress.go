// Package ingress is the local twin's stand-in for the API Gateway HTTP API:
// each route of routes.yaml is a POST whose request becomes one SQS FIFO
// message, mapped exactly as terraform/ingress.tf maps it on AWS —
//
//   - MessageGroupId from the route's group (static text, a header, or a
//     field of the JSON body);
//   - MessageDeduplicationId from the delivery-id header or the request id,
//     or none for content-based deduplication (the queue hashes the body);
//   - message attributes: webhook.AttrWebhookID = the request id,
//     webhook.AttrRoute, webhook.AttrReceivedAt (epoch millis, a Number, as
//     $context.requestTimeEpoch) and one "h-<Header>" per carried header.
//
// As on AWS, a header or body field a mapping names must be present, and a
// message group or deduplication id taken from one must be what SQS accepts
// (1 to 128 ASCII letters, digits or punctuation): otherwise nothing is
// queued and the sender gets 400. A body larger than the route's limit
// (asl.Limits: derived from its workflow, or ingress.max_body_bytes when
// lower) is answered 413 and not queued; on AWS, where the HTTP API has no
// such check, the forwarder parks it as too_large. Each route is throttled
// as the module throttles it on an API it creates (its rate and burst,
// throttle.go): a request beyond the limit is answered 429 and not queued —
// on an existing API too, where AWS throttles only once the limits printed
// by cmd/generate are set. One difference is deliberate:
// a body SQS cannot hold as text (not UTF-8, or characters SQS forbids) is
// queued as its base64 with webhook.AttrBodyEncoding = "base64", so binary
// bodies survive byte for byte.
//
// The answer is API Gateway's SQS-SendMessage integration answer — the
// SendMessage result as JSON — and it is written only after the store has
// fsync'd the message, so a 200 means the webhook is durable.
package ingress

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Sender durably enqueues a message (fifo.Store.Send): it returns after the
// message is on disk.
type Sender interface {
	Send(queue string, in fifo.SendInput) (fifo.SendResult, error)
}

// Handler serves the routes of one configuration.
type Handler struct {
	cfg    *config.Config
	queue  string
	sender Sender
	log    *slog.Logger
	now    func() time.Time
	routes map[string]config.Route // by full ingress path
	// maxBody is each route's body limit (asl.RouteLimits.MaxBody), by name.
	maxBody map[string]int
	// throttles are the routes' token buckets (config.Route.Throttle), by name.
	throttles map[string]*bucket
	// closed makes every request answer 503 once shutdown has begun.
	closed atomic.Bool
}

// New serves cfg's routes, sending to the named queue. A nil logger discards.
func New(cfg *config.Config, queue string, sender Sender, log *slog.Logger) (*Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limits, err := asl.AllLimits(cfg)
	if err != nil {
		return nil, fmt.Errorf("ingress: %w", err)
	}
	h := &Handler{cfg: cfg, queue: queue, sender: sender, log: log, now: time.Now, routes: map[string]config.Route{}, maxBody: map[string]int{}, throttles: map[string]*bucket{}}
	for _, r := range cfg.Routes {
		h.routes[cfg.IngressPath(r)] = r
		h.maxBody[r.Name] = limits[r.Name].MaxBody
		h.throttles[r.Name] = newBucket(r.Throttle, h.now())
	}
	return h, nil
}

// Owns reports whether path is one of the routes or below the base path, so a
// shared listener sends it here (unknown routes below the base path get 404
// from the ingress, as from API Gateway).
func (h *Handler) Owns(path string) bool {
	if _, ok := h.routes[path]; ok {
		return true
	}
	base := h.cfg.Ingress.BasePath
	return base != "" && (path == base || strings.HasPrefix(path, base+"/"))
}

// Close makes the handler refuse new webhooks (503), for graceful shutdown:
// a sender retries a 503, so nothing it sends afterwards is lost.
func (h *Handler) Close() { h.closed.Store(true) }

// sendMessageResponse is the SQS-SendMessage integration's answer body.
type sendMessageResponse struct {
	SendMessageResponse struct {
		ResponseMetadata struct {
			RequestID string `json:"RequestId"`
		} `json:"ResponseMetadata"`
		SendMessageResult struct {
			MD5OfMessageAttributes       string  `json:"MD5OfMessageAttributes"`
			MD5OfMessageBody             string  `json:"MD5OfMessageBody"`
			MD5OfMessageSystemAttributes *string `json:"MD5OfMessageSystemAttributes"`
			MessageID                    string  `json:"MessageId"`
			SequenceNumber               string  `json:"SequenceNumber"`
		} `json:"SendMessageResult"`
	} `json:"SendMessageResponse"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	if h.closed.Load() {
		w.Header().Set("Retry-After", "1")
		answer(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	route, ok := h.routes[r.URL.Path]
	if !ok {
		answer(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if !h.throttles[route.Name].take(h.now()) {
		answer(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	limit := h.maxBody[route.Name]
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		answer(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > limit {
		h.log.Info("ingress: request refused", "route", route.Name, "request_id", requestID, "reason", fmt.Sprintf("body over %d bytes", limit))
		answer(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	in, err := h.message(route, r.Header, body, requestID)
	if err != nil {
		h.log.Info("ingress: request refused", "route", route.Name, "request_id", requestID, "reason", err.Error())
		answer(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := h.sender.Send(h.queue, in)
	if err != nil {
		var fe *fifo.Error
		if errors.As(err, &fe) && fe.Code != fifo.ErrClosed.Code {
			answer(w, http.StatusBadRequest, fe.Message)
			return
		}
		h.log.Error("ingress: enqueue failed", "route", route.Name, "request_id", requestID, "error", err.Error())
		answer(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	var out sendMessageResponse
	out.SendMessageResponse.ResponseMetadata.RequestID = requestID
	rs := &out.SendMessageResponse.SendMessageResult
	rs.MD5OfMessageAttributes, rs.MD5OfMessageBody = res.MD5OfMessageAttributes, res.MD5OfBody
	rs.MessageID, rs.SequenceNumber = res.MessageID, res.SequenceNumber
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

// message maps one request to the SQS message API Gateway would send.
func (h *Handler) message(route config.Route, header http.Header, body []byte, requestID string) (fifo.SendInput, error) {
	group, err := groupID(route.Group, header, body)
	if err != nil {
		return fifo.SendInput{}, err
	}
	attrs := map[string]fifo.Attribute{
		webhook.AttrWebhookID:  {DataType: "String", StringValue: requestID},
		webhook.AttrRoute:      {DataType: "String", StringValue: route.Name},
		webhook.AttrReceivedAt: {DataType: "Number", StringValue: strconv.FormatInt(h.now().UnixMilli(), 10)},
	}
	for _, name := range route.Headers {
		v, ok := headerValue(header, name)
		if !ok {
			return fifo.SendInput{}, fmt.Errorf("missing header %s (the route carries it)", name)
		}
		attrs[webhook.AttrHeaderPrefix+name] = fifo.Attribute{DataType: "String", StringValue: v}
	}
	in := fifo.SendInput{GroupID: group, Attributes: attrs}
	switch route.Dedup.Source {
	case config.DedupHeader:
		v, ok := headerValue(header, route.Dedup.Header)
		if !ok {
			return fifo.SendInput{}, fmt.Errorf("missing header %s (the route deduplicates on it)", route.Dedup.Header)
		}
		in.DeduplicationID = v
	case config.DedupRequestID:
		in.DeduplicationID = requestID
	}
	if fifo.ValidText(string(body)) {
		in.Body = string(body)
	} else {
		in.Body = base64.StdEncoding.EncodeToString(body)
		attrs[webhook.AttrBodyEncoding] = fifo.Attribute{DataType: "String", StringValue: webhook.EncodingBase64}
	}
	if len(in.Body) == 0 {
		return fifo.SendInput{}, errors.New("empty body (an SQS message needs at least one character)")
	}
	return in, nil
}

// groupID resolves a route's message group for one request.
func groupID(g config.Group, header http.Header, body []byte) (string, error) {
	switch g.Source {
	case config.GroupStatic:
		return g.Value, nil
	case config.GroupHeader:
		v, ok := headerValue(header, g.Value)
		if !ok {
			return "", fmt.Errorf("missing header %s (the route groups by it)", g.Value)
		}
		return v, nil
	case config.GroupBody:
		v, ok := bodyField(body, g.Value)
		if !ok {
			return "", fmt.Errorf("missing body field %s (the route groups by it)", g.Value)
		}
		return v, nil
	}
	return "", fmt.Errorf("unknown group source %q", g.Source)
}

// headerValue is the header's value; a header sent several times reads as
// API Gateway reads it, the values joined by commas.
func headerValue(h http.Header, name string) (string, bool) {
	vs := h.Values(name)
	if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
		return "", false
	}
	return strings.Join(vs, ","), true
}

// bodyField reads a dotted path from a JSON object body, as
// $request.body.a.b does: a string as itself, anything else as its JSON.
func bodyField(body []byte, path string) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	for _, key := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = obj[key]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, x != ""
	default:
		b, err := json.Marshal(x)
		return string(b), err == nil
	}
}

// answer writes API Gateway's error shape, {"message": "..."}.
func answer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// newRequestID is a fresh request id, the webhook id of what it carries.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
