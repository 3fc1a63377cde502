package statemachine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Values in an execution are what encoding/json decodes with UseNumber:
// map[string]any, []any, string, json.Number, bool and nil. They are never
// mutated once built, so states share them without copying.

// decodeJSON decodes one JSON value, numbers kept exact as json.Number.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// formatNumber writes a float the way JSON writers conventionally do:
// integers without exponent or fraction.
func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
