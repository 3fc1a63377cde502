package applytest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// apiGateway plays API Gateway for the applied HTTP API, which moto stores
// but does not serve: a POST on a route of the stage runs the route's
// SQS-SendMessage integration as the module configured it — its request
// parameters evaluated against the request ($request.header.X,
// $request.body.a.b, $context.requestId, ${…} inside the attributes' JSON)
// and the message sent with the integration's role — and is answered as API
// Gateway answers: 200 with SQS's answer and the request id in
// Apigw-Requestid, 400 when a mapped header or body field is missing, 404
// when the stage does not serve the route. moto keeps no deployments, so a
// stage that does not deploy by itself serves nothing.
type apiGateway struct {
	*httptest.Server
	t        *testing.T
	p        principals
	apiID    string
	stage    string
	operator clients
}

func newAPIGateway(t *testing.T, p principals, apiID, stage string) *apiGateway {
	g := &apiGateway{t: t, p: p, apiID: apiID, stage: stage, operator: p.operator}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

// Client is an HTTP client whose requests for any host reach the player, as
// requests for the API's execute-api host reach API Gateway.
func (g *apiGateway) Client() *http.Client {
	player, _ := url.Parse(g.URL)
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = player.Scheme, player.Host
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answerJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *apiGateway) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	requestID := newRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	notFound := map[string]string{"message": "Not Found"}
	st, err := g.operator.apigw.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: aws.String(g.apiID), StageName: aws.String(g.stage)})
	var missing *apigwtypes.NotFoundException
	if errors.As(err, &missing) || (err == nil && !aws.ToBool(st.AutoDeploy)) {
		answerJSON(w, http.StatusNotFound, notFound)
		return
	}
	if err != nil {
		answerJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	path := r.URL.Path
	if g.stage != "$default" {
		var ok bool
		if path, ok = strings.CutPrefix(path, "/"+g.stage); !ok {
			answerJSON(w, http.StatusNotFound, notFound)
			return
		}
	}
	routes, err := g.operator.apigw.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(g.apiID)})
	if err != nil {
		answerJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	var target string
	for _, rt := range routes.Items {
		if aws.ToString(rt.RouteKey) == r.Method+" "+path {
			target = strings.TrimPrefix(aws.ToString(rt.Target), "integrations/")
		}
	}
	if target == "" {
		answerJSON(w, http.StatusNotFound, notFound)
		return
	}
	in, err := g.operator.apigw.GetIntegration(ctx, &apigatewayv2.GetIntegrationInput{ApiId: aws.String(g.apiID), IntegrationId: aws.String(target)})
	if err != nil || aws.ToString(in.IntegrationSubtype) != "SQS-SendMessage" {
		answerJSON(w, http.StatusInternalServerError, map[string]string{"message": fmt.Sprintf("integration %s: %v", target, err)})
		return
	}
	body, _ := io.ReadAll(r.Body)
	req := mappingRequest{header: r.Header, body: body, requestID: requestID, epochMillis: time.Now().UnixMilli()}
	msg, err := req.sendMessageInput(in.RequestParameters)
	if err != nil {
		// API Gateway refuses what its mapping cannot resolve, before SQS.
		answerJSON(w, http.StatusBadRequest, map[string]string{"message": "Bad Request"})
		return
	}
	role := aws.ToString(in.CredentialsArn)
	sender := g.p.as(g.t, role[strings.LastIndex(role, "/")+1:])
	out, err := sender.sqs.SendMessage(ctx, msg)
	if err != nil {
		answerJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal Server Error"})
		return
	}
	answerJSON(w, http.StatusOK, map[string]any{"SendMessageResponse": map[string]any{
		"SendMessageResult": map[string]string{"MessageId": aws.ToString(out.MessageId), "MD5OfMessageBody": aws.ToString(out.MD5OfMessageBody)},
	}})
}

// mappingRequest is what a request parameter mapping reads.
type mappingRequest struct {
	header      http.Header
	body        []byte
	requestID   string
	epochMillis int64
}

var braced = regexp.MustCompile(`\$\{([^}]+)\}`)

// value evaluates one mapping expression without its "$": request.header.X,
// request.body.a.b (a JSON path), request.body, context.requestId,
// context.requestTimeEpoch.
func (m mappingRequest) value(expr string) (string, error) {
	switch {
	case expr == "request.body":
		return string(m.body), nil
	case expr == "context.requestId":
		return m.requestID, nil
	case expr == "context.requestTimeEpoch":
		return strconv.FormatInt(m.epochMillis, 10), nil
	case strings.HasPrefix(expr, "request.header."):
		v := m.header.Get(strings.TrimPrefix(expr, "request.header."))
		if v == "" {
			return "", fmt.Errorf("header %s is missing", expr)
		}
		return v, nil
	case strings.HasPrefix(expr, "request.body."):
		var doc any
		if err := json.Unmarshal(m.body, &doc); err != nil {
			return "", err
		}
		for _, part := range strings.Split(strings.TrimPrefix(expr, "request.body."), ".") {
			obj, ok := doc.(map[string]any)
			if !ok || obj[part] == nil {
				return "", fmt.Errorf("body field %s is missing", expr)
			}
			doc = obj[part]
		}
		if s, ok := doc.(string); ok {
			return s, nil
		}
		b, err := json.Marshal(doc)
		return string(b), err
	}
	return "", fmt.Errorf("mapping %s is not one the module writes", expr)
}

// resolve evaluates a parameter: a mapping on its own ($request.header.X),
// or text with mappings in braces.
func (m mappingRequest) resolve(param string) (string, error) {
	if expr, ok := strings.CutPrefix(param, "$"); ok && !strings.HasPrefix(expr, "{") {
		return m.value(expr)
	}
	var firstErr error
	out := braced.ReplaceAllStringFunc(param, func(s string) string {
		v, err := m.value(braced.FindStringSubmatch(s)[1])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	return out, firstErr
}

func (m mappingRequest) sendMessageInput(params map[string]string) (*sqs.SendMessageInput, error) {
	resolved := map[string]string{}
	for k, v := range params {
		r, err := m.resolve(v)
		if err != nil {
			return nil, err
		}
		resolved[k] = r
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(resolved["QueueUrl"]), MessageBody: aws.String(resolved["MessageBody"])}
	if v, ok := resolved["MessageGroupId"]; ok {
		in.MessageGroupId = aws.String(v)
	}
	if v, ok := resolved["MessageDeduplicationId"]; ok {
		in.MessageDeduplicationId = aws.String(v)
	}
	if v, ok := resolved["MessageAttributes"]; ok {
		var attrs map[string]struct{ DataType, StringValue string }
		if err := json.Unmarshal([]byte(v), &attrs); err != nil {
			return nil, fmt.Errorf("MessageAttributes: %w", err)
		}
		in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{}
		for name, a := range attrs {
			in.MessageAttributes[name] = sqstypes.MessageAttributeValue{DataType: aws.String(a.DataType), StringValue: aws.String(a.StringValue)}
		}
	}
	return in, nil
}

// newRequestID is a request id shaped like API Gateway's.
func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
