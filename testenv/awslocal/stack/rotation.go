package stack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// RotationViaLambda is a rotation invoker that sends each rotation step to
// fn, a real function binary under the Runtime API harness, as Secrets
// Manager invokes a rotation Lambda. A function error fails the step.
func RotationViaLambda(fn *runtimeapi.Function) secretsmanager.RotationInvoker {
	return func(ctx context.Context, functionARN string, ev secretsmanager.RotationEvent) error {
		payload, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode rotation event: %w", err)
		}
		res, err := fn.Invoke(ctx, payload, runtimeapi.InvokeOptions{FunctionARN: functionARN})
		if err != nil {
			return fmt.Errorf("invoke %s for %s: %w", functionARN, ev.Step, err)
		}
		if res.Failed() {
			return fmt.Errorf("%s: %s: %s", ev.Step, res.ErrorType, res.ErrorMessage)
		}
		return nil
	}
}
