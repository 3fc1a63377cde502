// Package asl is the typed model of the Amazon States Language (JSONPath query
// language) that webhookq's Express workflows are written in: the model and its
// deterministic encoding (model.go), a validator (validate.go), and the
// workflow built for each route (build.go).
package asl
