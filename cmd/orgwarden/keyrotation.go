package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/sweep"
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
		deleting: keyRotationJob,
	}
}

// keyRotationJob is `orgwarden run keyrotation`, the stale-key sweep: a
// preview by default, revocations with --apply (runDeleting).
func keyRotationJob() deletingJob {
	return deletingJob{
		synopsis: "run keyrotation",
		flags: func(*flag.FlagSet) jobRunner {
			return func(ctx context.Context, env config.Lookup, opts app.Options, dryRun bool) (*report, error) {
				h, err := rotation.FromEnv(ctx, env, opts)
				if err != nil {
					return nil, err
				}
				sum, err := h.Sweep(ctx, dryRun)
				if sum == nil {
					return nil, err
				}
				var items []item
				for _, es := range [][]sweep.Entry{sum.Keys.Deletions, sum.Retirements.Deletions, sum.Keys.Reports, sum.Keys.Skipped, sum.Retirements.Skipped} {
					items = append(items, itemsOf(es)...)
				}
				sc := sum.Scanned
				return &report{Job: rotation.Function, DryRun: sum.DryRun, RunID: sum.RunID,
					Scanned: fmt.Sprintf("%d projects, %d project keys, %d admin keys, %d managed secrets (stale: unused %s, never used %s; admin keys unused %s)",
						sc.Projects, sc.ProjectKeys, sc.AdminKeys, sc.ManagedSecrets, sum.Thresholds.StaleKeyUnused, sum.Thresholds.StaleKeyNeverUsed, sum.Thresholds.AdminKeyUnused),
					Items: items, CapExceeded: sum.Keys.CapExceeded, CapError: sum.Keys.CapError, Errors: sum.Errors,
					Summary: sum}, err
			}
		},
	}
}
