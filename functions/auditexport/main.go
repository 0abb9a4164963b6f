// Command auditexport is the audit-log export Lambda function: on every
// scheduled run it exports the OpenAI audit events that appeared since the
// last run to S3, with a digest chain for integrity validation.
package main

import (
	"context"

	"github.com/orgwarden/orgwarden/functions/auditexport/detect"
	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/lambdamain"
)

func main() {
	lambdamain.Start(export.Function, func(ctx context.Context) (func(context.Context, export.Event) (export.Result, error), error) {
		f, err := export.FromEnv(ctx, config.OSEnv(), app.Options{})
		if err != nil {
			return nil, err
		}
		if _, err := detect.Attach(f, config.OSEnv()); err != nil {
			return nil, err
		}
		return f.Handle, nil
	})
}
