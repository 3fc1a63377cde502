// Command probe is a tiny Lambda function for the harness's own tests: it
// answers with the event it got, the environment variables the event names,
// the working directory and the time left before the deadline; an event
// {"fail": "..."} makes it return that error.
package main

import (
	"context"
	"errors"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Env  []string `json:"env"`
	Fail string   `json:"fail"`
}

type answer struct {
	// Arch is the GOARCH the probe was built for: the code that runs.
	Arch       string             `json:"arch"`
	Env        map[string]*string `json:"env"`
	Dir        string             `json:"dir"`
	HasTimeout bool               `json:"hasTimeout"`
	TimeLeftMS int64              `json:"timeLeftMs"`
}

func handle(ctx context.Context, req request) (answer, error) {
	if req.Fail != "" {
		return answer{}, errors.New(req.Fail)
	}
	a := answer{Arch: runtime.GOARCH, Env: map[string]*string{}}
	for _, k := range req.Env {
		if v, ok := os.LookupEnv(k); ok {
			a.Env[k] = &v
		} else {
			a.Env[k] = nil
		}
	}
	a.Dir, _ = os.Getwd()
	if d, ok := ctx.Deadline(); ok {
		a.HasTimeout, a.TimeLeftMS = true, time.Until(d).Milliseconds()
	}
	return a, nil
}

func main() { lambda.Start(handle) }
