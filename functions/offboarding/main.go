// Command offboarding is the offboarding Lambda function: it removes
// departing people from the OpenAI organization on HR events from SQS.
// The logic is in package offboard; this file only wires it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/lambdamain"
)

func main() {
	lambdamain.Start(offboard.Function, func(ctx context.Context) (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
		h, err := offboard.FromEnv(ctx, config.OSEnv(), app.Options{})
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
