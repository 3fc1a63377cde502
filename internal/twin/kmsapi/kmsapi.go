// Package kmsapi serves the local twin's probe key over the AWS KMS JSON
// protocol — GenerateMac and VerifyMac, the two operations post-deploy
// probes use (internal/lambda/probe) — so cmd/check makes a probe's MAC
// against the twin exactly as against AWS, by the key's ARN or its alias
// (alias/<service>-probe, as the Terraform module names it).
package kmsapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/webhookq/webhookq/internal/lambda/probe"
)

// targetPrefix is the X-Amz-Target prefix of the KMS API.
const targetPrefix = "TrentService."

// maxRequestBytes bounds a request: a probe's message is a few hundred bytes
// (KMS takes at most 4096 for a MAC).
const maxRequestBytes = 16 << 10

// Server answers for one key, known by its ARN and one alias.
type Server struct {
	key   *probe.LocalKey
	alias string
}

// New serves key, also under alias ("alias/…").
func New(key *probe.LocalKey, alias string) *Server { return &Server{key: key, alias: alias} }

// keyID resolves an alias of the key to its ARN.
func (s *Server) keyID(id *string) *string {
	if aws.ToString(id) == s.alias {
		return aws.String(s.key.ARN)
	}
	return id
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if r.Method != http.MethodPost || !ok {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "POST with X-Amz-Target TrentService.<operation>")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		writeError(w, http.StatusBadRequest, "ValidationException", "unreadable or oversized request")
		return
	}
	var out any
	switch op {
	case "GenerateMac":
		var in kms.GenerateMacInput
		if err = json.Unmarshal(body, &in); err == nil {
			in.KeyId = s.keyID(in.KeyId)
			var o *kms.GenerateMacOutput
			if o, err = s.key.GenerateMac(r.Context(), &in); err == nil {
				out = map[string]any{"KeyId": o.KeyId, "Mac": o.Mac, "MacAlgorithm": o.MacAlgorithm}
			}
		}
	case "VerifyMac":
		var in kms.VerifyMacInput
		if err = json.Unmarshal(body, &in); err == nil {
			in.KeyId = s.keyID(in.KeyId)
			var o *kms.VerifyMacOutput
			if o, err = s.key.VerifyMac(r.Context(), &in); err == nil {
				out = map[string]any{"KeyId": o.KeyId, "MacValid": o.MacValid, "MacAlgorithm": o.MacAlgorithm}
			}
		}
	default:
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "the local twin's KMS answers GenerateMac and VerifyMac only, not "+op)
		return
	}
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			writeError(w, http.StatusBadRequest, apiErr.ErrorCode(), apiErr.ErrorMessage())
		} else {
			writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		}
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}
