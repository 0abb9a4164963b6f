// Command fn is a tiny Lambda function on the real aws-lambda-go runtime
// client, for testing the Runtime API harness. Its behaviour is chosen by
// the event's "action" and, for init, by FN_INIT.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	// Step and SecretId come in Secrets Manager rotation events.
	Step     string `json:"Step"`
	SecretID string `json:"SecretId"`

	Action string `json:"action"`
	Millis int    `json:"ms"`
	Size   int    `json:"size"`
	Text   string `json:"text"`
}

// invocations counts the invocations this process served: a warm process
// keeps counting, a cold one starts at 1.
var invocations int

func handle(ctx context.Context, ev event) (any, error) {
	invocations++
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	if ev.Step != "" {
		fmt.Println("rotation step", ev.Step, ev.SecretID)
		if ev.Step == os.Getenv("FN_FAIL_STEP") {
			return nil, errors.New("rotation step " + ev.Step + " failed")
		}
		return nil, nil
	}
	switch ev.Action {
	case "echo":
		fmt.Println("handling", lc.AwsRequestID)
		log.Printf("stderr line for %s", lc.AwsRequestID)
		return map[string]any{
			"text":        ev.Text,
			"requestId":   lc.AwsRequestID,
			"functionArn": lc.InvokedFunctionArn,
			"deadlineMs":  deadline.UnixMilli(),
			"traceId":     ctx.Value("x-amzn-trace-id"),
			"clientApp":   lc.ClientContext.Client.AppTitle,
			"identity":    lc.Identity.CognitoIdentityID,
			"invocations": invocations,
		}, nil
	case "env":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		wd, _ := os.Getwd()
		env["PWD"] = wd
		return env, nil
	case "error":
		return nil, errors.New("cannot offboard: " + ev.Text)
	case "panic":
		panic("kaboom")
	case "sleep":
		// Ignores its context, like a handler stuck in a call.
		time.Sleep(time.Duration(ev.Millis) * time.Millisecond)
		return "woke up", nil
	case "big":
		return strings.Repeat("x", ev.Size), nil
	case "exit":
		os.Exit(7)
	}
	return nil, fmt.Errorf("unknown action %q", ev.Action)
}

func main() {
	switch os.Getenv("FN_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "config: OPENAI_ADMIN_KEY is not set")
		os.Exit(3)
	case "report":
		// What a runtime does when its init fails: report, then exit.
		fmt.Println("reporting init error")
		api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
		body := []byte(`{"errorMessage":"missing OPENAI_ADMIN_KEY","errorType":"Runtime.ConfigError"}`)
		req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.ConfigError")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			fmt.Println("init error reported:", resp.StatusCode)
		}
		os.Exit(1)
	}
	lambda.Start(handle)
}
