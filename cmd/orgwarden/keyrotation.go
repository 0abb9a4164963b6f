package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// keyRotationFunction is the keyrotation Lambda as the CLI sees it. A
// rotation step runs with `orgwarden invoke keyrotation --event FILE`
// (functions/keyrotation/examples); `orgwarden run keyrotation` runs the
// stale-key sweep.
func keyRotationFunction() lambdaFunction {
	return lambdaFunction{
		name:  rotation.Function,
		about: "rotates admin and service-account keys (Secrets Manager); revokes stale keys (schedule)",
		handler: func(ctx context.Context, env config.Lookup, out io.Writer) (any, error) {
			h, err := rotation.FromEnv(ctx, env, app.Options{Out: out})
			if err != nil {
				return nil, err
			}
			return h.Handle, nil
		},
		run: runKeyRotation,
	}
}

// runKeyRotation is `orgwarden run keyrotation [--dry-run]`: one stale-key
// sweep with the function's configuration, logs on stderr, the summary as
// JSON on stdout.
func runKeyRotation(ctx context.Context, env config.Lookup, args []string, stdout, stderr io.Writer) error {
	c := &cli{stdout: stdout, stderr: stderr, env: env}
	fs := c.flags("run keyrotation", "run keyrotation [--dry-run]")
	dryRun := fs.Bool("dry-run", false, "list what would be revoked and retired, change nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	h, err := rotation.FromEnv(ctx, env, app.Options{Out: stderr})
	if err != nil {
		return err
	}
	sum, runErr := h.Sweep(ctx, *dryRun)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sum); err != nil {
		return err
	}
	return runErr
}
