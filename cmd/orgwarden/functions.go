package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/orgwarden/orgwarden/shared/config"
)

// lambdaFunction is one of orgwarden's Lambda functions as the CLI sees it.
// Each function's own file in this folder returns one.
type lambdaFunction struct {
	name  string
	about string
	// handler builds the function's Lambda handler from env exactly as its
	// main.go does, logging to out. The value is what lambda.Start takes.
	handler func(ctx context.Context, env config.Lookup, out io.Writer) (any, error)
	// run runs the job once: orgwarden run NAME [args]. Logs go to stderr,
	// the report to stdout. Jobs that delete set deleting instead.
	run func(ctx context.Context, env config.Lookup, args []string, stdout, stderr io.Writer) error
	// deleting is set for jobs that delete: `orgwarden run` previews them
	// by default and deletes only with --apply (runDeleting).
	deleting func() deletingJob
}

// functions lists every function the CLI knows, in demo order.
func functions() []lambdaFunction {
	return []lambdaFunction{
		offboardingFunction(),
		auditExportFunction(),
		keyRotationFunction(),
		inviteCleanupFunction(),
		inventoryFunction(),
		policyGuardFunction(),
	}
}

func lookupFunction(name string) (lambdaFunction, error) {
	var names []string
	for _, f := range functions() {
		if f.name == name {
			return f, nil
		}
		names = append(names, f.name)
	}
	return lambdaFunction{}, fmt.Errorf("%w: unknown function %q (known: %s)", errUsage, name, strings.Join(names, ", "))
}
