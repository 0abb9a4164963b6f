// Package lambdamain is what every function's main.go calls: build the
// handler once at init, then serve invocations with aws-lambda-go.
//
// aws-lambda-go has no way to report an init failure, so Start posts it to
// the Runtime API's documented /runtime/init/error endpoint itself (Lambda
// then shows the reason instead of a bare "Runtime.ExitError"), logs it as
// one JSON line and exits.
package lambdamain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// Start builds the handler and serves it. The handler's type is checked at
// compile time, as lambda.StartHandlerFunc does it: a handler of any other
// shape does not build (lambda.Start would accept it and fail on the first
// invocation instead).
func Start[In, Out any](function string, build func(ctx context.Context) (func(context.Context, In) (Out, error), error)) {
	ctx := context.Background()
	h, err := build(ctx)
	if err != nil {
		Fail(function, err)
	}
	lambda.StartHandlerFunc(h)
}

// Fail reports an init error and exits with status 1.
func Fail(function string, err error) {
	err = logging.RedactError(err)
	logging.New(os.Stdout, slog.LevelInfo).Error("init failed", "function", function, "error", err.Error())
	if api := os.Getenv("AWS_LAMBDA_RUNTIME_API"); api != "" {
		_ = ReportInitError(api, "Runtime.InitError", err)
	}
	os.Exit(1)
}

// ReportInitError posts err to the Runtime API at api (host:port).
func ReportInitError(api, errorType string, err error) error {
	body, _ := json.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": errorType})
	req, rerr := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if rerr != nil {
		return rerr
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	res, rerr := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if rerr != nil {
		return fmt.Errorf("report init error: %w", rerr)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("report init error: runtime api answered %s", res.Status)
	}
	return nil
}
