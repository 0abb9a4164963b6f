package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/orgwarden/orgwarden/functions/policyguard/enforce"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// policyGuardFunction is the policyguard Lambda as the CLI sees it.
func policyGuardFunction() lambdaFunction {
	return lambdaFunction{
		name:  enforce.Function,
		about: "compares every project with ORGWARDEN_POLICY and remediates what enforced rules require (schedule)",
		handler: func(ctx context.Context, env config.Lookup, out io.Writer) (any, error) {
			h, err := enforce.FromEnv(ctx, env, app.Options{Out: out})
			if err != nil {
				return nil, err
			}
			return h.Handle, nil
		},
		deleting: policyGuardJob,
	}
}

// policyGuardJob is `orgwarden run policyguard`: a preview by default,
// remediation with --apply (runDeleting), through the handler's one plan.
func policyGuardJob() deletingJob {
	return deletingJob{
		synopsis: "run policyguard",
		flags: func(*flag.FlagSet) jobRunner {
			return func(ctx context.Context, env config.Lookup, opts app.Options, dryRun bool) (*report, error) {
				h, err := enforce.FromEnv(ctx, env, opts)
				if err != nil {
					return nil, err
				}
				sum, err := h.Run(ctx, dryRun)
				if sum == nil {
					return nil, err
				}
				items := itemsOf(sum.Changes.Deletions)
				items = append(items, itemsOf(sum.Changes.Reports)...)
				items = append(items, itemsOf(sum.Changes.Skipped)...)
				return &report{Job: enforce.Function, DryRun: sum.DryRun, RunID: sum.RunID,
					Scanned: fmt.Sprintf("%d projects, %d selected by %d rules", sum.Scanned, sum.Selected, sum.Rules),
					Items:   items, CapExceeded: sum.Changes.CapExceeded, CapError: sum.Changes.CapError, Errors: sum.Errors,
					Summary: sum}, err
			}
		},
	}
}
