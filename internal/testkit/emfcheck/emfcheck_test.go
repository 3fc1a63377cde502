package emfcheck

import (
	"strings"
	"testing"
)

// The specification's own shape of a valid document, and one break of each
// rule the checker enforces: a checker that accepted these would prove nothing.
func TestParse(t *testing.T) {
	valid := `{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[["Route"],[]],"Metrics":[{"Name":"Delivered","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds","StorageResolution":60}]}]},"Route":"r1","Delivered":1,"Latency":[12,30],"other":"kept"}`
	data, err := Parse([]byte(valid))
	if err != nil {
		t.Fatalf("valid document refused: %v", err)
	}
	var keys []string
	for _, d := range data {
		keys = append(keys, d.Key())
	}
	want := "ns Delivered Route=r1|ns Delivered|ns Latency Route=r1|ns Latency"
	if got := strings.Join(keys, "|"); got != want {
		t.Errorf("data %s, want %s", got, want)
	}
	if data[2].Unit != "Milliseconds" || len(data[2].Values) != 2 || data[2].Values[1] != 30 || data[0].Timestamp != 1700000000000 {
		t.Errorf("datum %+v", data[2])
	}

	bad := map[string]string{
		"not JSON":              `Route=r1 Delivered=1`,
		"trailing data":         `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]}} x`,
		"no _aws":               `{"Delivered":1}`,
		"no timestamp":          `{"_aws":{"CloudWatchMetrics":[]}}`,
		"timestamp not millis":  `{"_aws":{"Timestamp":"now","CloudWatchMetrics":[]}}`,
		"no directives":         `{"_aws":{"Timestamp":1}}`,
		"extra metadata member": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[],"Extra":1}}`,
		"no namespace":          `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[],"Metrics":[]}]}}`,
		"no dimensions":         `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Metrics":[]}]}}`,
		"no metrics":            `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[]}]}}`,
		"dimension not present": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Route"]],"Metrics":[{"Name":"M"}]}]},"M":1}`,
		"dimension not string":  `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Route"]],"Metrics":[{"Name":"M"}]}]},"M":1,"Route":3}`,
		"metric not present":    `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"M"}]}]}}`,
		"metric not number":     `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":"1"}`,
		"unknown unit":          `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"M","Unit":"ms"}]}]},"M":1}`,
		"bad resolution":        `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[],"Metrics":[{"Name":"M","StorageResolution":5}]}]},"M":1}`,
		"too many dimensions":   `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a"]],"Metrics":[]}]},"a":"x"}`,
	}
	for name, line := range bad {
		if _, err := Parse([]byte(line)); err == nil {
			t.Errorf("%s: accepted %s", name, line)
		}
	}
}
