// Package notifier is the notify function's core: it tells people that a
// webhook delivery failed — which route, group and webhook, why, whether the
// message is headed for the dead-letter queue, where to look, and how to
// redrive it — on an SNS topic and a Slack-compatible incoming webhook.
//
// Every configured channel is tried; a channel that fails is logged and
// reported as a *ChannelError after the others were tried, so one broken
// channel neither silences the rest nor hides the delivery failure itself.
package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/webhook"
)

// SNSPublisher is the part of the SNS client the notifier uses.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SecretResolver reads a referenced secret (secret.Resolver, cached per container).
type SecretResolver interface {
	Resolve(ctx context.Context, ref config.SecretRef) (string, error)
}

// Config is what a Notifier needs: the routes, the clients (as the narrow
// interfaces above) and optional knobs with defaults.
type Config struct {
	// Routes is the loaded routes.yaml (required).
	Routes *config.Config
	// Secrets resolves the Slack webhook URL (required).
	Secrets SecretResolver
	// SNS publishes to the SNS channel; nil fails that channel ("no SNS
	// client"), as on the twin, which has no SNS.
	SNS SNSPublisher
	// HTTPClient posts to Slack; nil is http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives one line per notification; nil is slog.Default().
	Logger *slog.Logger
}

// Notifier sends failure notifications for the routes of one configuration.
type Notifier struct {
	cfg     *config.Config
	secrets SecretResolver
	sns     SNSPublisher
	client  *http.Client
	log     *slog.Logger
}

// New checks the configuration and builds a Notifier.
func New(c *Config) (*Notifier, error) {
	switch {
	case c == nil || c.Routes == nil:
		return nil, errors.New("notifier: no routes configuration (Config.Routes)")
	case c.Secrets == nil:
		return nil, errors.New("notifier: no secret resolver (Config.Secrets)")
	}
	n := &Notifier{cfg: c.Routes, secrets: c.Secrets, sns: c.SNS, client: c.HTTPClient, log: c.Logger}
	if n.client == nil {
		n.client = http.DefaultClient
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	return n, nil
}

// Result says which channels took the notification.
type Result struct {
	Delivered []string `json:"delivered"`
}

// ChannelError reports the channels that failed, after all were tried. Its
// type name is the errorType the workflow records.
type ChannelError struct {
	Failures map[string]error
}

func (e *ChannelError) Error() string {
	var parts []string
	for _, ch := range channelOrder {
		if err, ok := e.Failures[ch]; ok {
			parts = append(parts, ch+": "+err.Error())
		}
	}
	// Bounded: the workflow keeps it in its state data, which Step Functions
	// limits in size.
	return webhook.BoundCause("notify channels failed: " + strings.Join(parts, "; "))
}

// Channel names, in the order they are tried.
const (
	ChannelSNS   = "sns"
	ChannelSlack = "slack"
)

var channelOrder = []string{ChannelSNS, ChannelSlack}

// slackTimeout bounds the Slack POST; the notify Lambda's timeout is longer.
const slackTimeout = 10 * time.Second

// Notify composes the message for a failed execution and sends it to the
// route's channels.
func (n *Notifier) Notify(ctx context.Context, req webhook.NotifyRequest) (Result, error) {
	log := n.log.With("webhook_id", req.Webhook.WebhookID, "route", req.Webhook.Route, "group", req.Webhook.Group)
	channels := n.cfg.Notify
	if route, ok := n.cfg.Route(req.Webhook.Route); ok {
		channels = route.Notify
	} else {
		log.Warn("unknown route; notifying on the top-level channels")
	}
	msg := Compose(Describe(req))

	var res Result
	failures := map[string]error{}
	if channels.SNSTopicARN != "" {
		if err := n.publishSNS(ctx, channels.SNSTopicARN, msg); err != nil {
			failures[ChannelSNS] = err
		} else {
			res.Delivered = append(res.Delivered, ChannelSNS)
		}
	}
	if channels.SlackWebhookURL != nil {
		if err := n.postSlack(ctx, *channels.SlackWebhookURL, msg); err != nil {
			failures[ChannelSlack] = err
		} else {
			res.Delivered = append(res.Delivered, ChannelSlack)
		}
	}
	for ch, err := range failures {
		log.Error("notify channel failed", "channel", ch, "error", err.Error(), "delivery_error", req.Error.Error)
	}
	if len(res.Delivered) == 0 && len(failures) == 0 {
		log.Warn("no notify channel configured", "delivery_error", req.Error.Error)
	} else if len(res.Delivered) > 0 {
		log.Info("notified", "channels", res.Delivered, "delivery_error", req.Error.Error)
	}
	if len(failures) > 0 {
		return res, &ChannelError{Failures: failures}
	}
	return res, nil
}

func (n *Notifier) publishSNS(ctx context.Context, topic string, msg Message) error {
	if n.sns == nil {
		return errors.New("no SNS client")
	}
	_, err := n.sns.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topic),
		Subject:  aws.String(msg.Subject),
		Message:  aws.String(msg.Text),
	})
	return err
}

// postSlack posts {"text": …} to the incoming webhook. The URL is a secret:
// errors name its reference, never the URL.
func (n *Notifier) postSlack(ctx context.Context, ref config.SecretRef, msg Message) error {
	hook, err := n.secrets.Resolve(ctx, ref)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]string{"text": "*" + msg.Subject + "*\n```\n" + msg.Text + "```"})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, slackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSpace(hook), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook URL from %s is invalid", secret.Describe(ref))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		// The *url.Error names the URL, which is the secret: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to the webhook from %s failed: %v", secret.Describe(ref), err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook from %s answered %d: %s", secret.Describe(ref), resp.StatusCode, webhook.Bound(strings.TrimSpace(string(answer)), 200))
	}
	return nil
}
