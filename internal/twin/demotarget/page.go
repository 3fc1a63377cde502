package demotarget

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"clock": func(d Delivery) string { return d.At.Local().Format("15:04:05.000") },
}).Parse(pageHTML))

// page answers GET /: what the demo target is, its state, the newest
// deliveries first, and forms for its controls.
func (t *Target) page(w http.ResponseWriter) {
	s := t.Snapshot()
	for i, j := 0, len(s.Recent)-1; i < j; i, j = i+1, j-1 {
		s.Recent[i], s.Recent[j] = s.Recent[j], s.Recent[i]
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, s); err != nil {
		http.Error(w, "demo target: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}
