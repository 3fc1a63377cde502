package generate

import (
	"encoding/json"
	"strings"

	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/generate/tfgen"
)

// IsGenerated reports whether data is a JSON file that generate wrote, by the
// notice in its first field: asl.GeneratedComment in a workflow's "Comment",
// tfgen.GeneratedNotice as the locals' "//" property. cmd/generate deletes a
// stale workflow file only when this is true, so a file someone wrote by hand
// is never removed.
func IsGenerated(data []byte) bool {
	var head struct {
		Comment   string `json:"Comment"`
		Terraform string `json:"//"`
	}
	if json.Unmarshal(data, &head) != nil {
		return false
	}
	return strings.Contains(head.Comment, asl.GeneratedComment) || head.Terraform == tfgen.GeneratedNotice
}
