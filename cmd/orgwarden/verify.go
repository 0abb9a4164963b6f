package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
)

// verifyCommand is `orgwarden verify`, the audit export's integrity check.
func (c *cli) verifyCommand() command {
	return command{"check an audit export's digest chain and every object in it", c.verifyCmd}
}

// errVerifyFailed is the error of a verification that found problems; the
// report says which.
var errVerifyFailed = errors.New("the export does not verify")

func (c *cli) verifyCmd(ctx context.Context, args []string) error {
	r := config.NewReader(c.env)
	fs := c.flags("verify", "verify --bucket BUCKET [--prefix PREFIX] [--org ORG_ID] [--state-bucket BUCKET] [--no-state] [--no-duplicates]")
	bucket := fs.String("bucket", r.String("ORGWARDEN_AUDIT_BUCKET", ""), "the export's bucket (default $ORGWARDEN_AUDIT_BUCKET)")
	prefix := fs.String("prefix", r.String("ORGWARDEN_AUDIT_PREFIX", export.DefaultPrefix), "the export's key prefix")
	org := fs.String("org", "", "verify only this organization (default: every one under the prefix)")
	stateBucket := fs.String("state-bucket", r.String("ORGWARDEN_AUDIT_STATE_BUCKET", ""), "bucket of the checkpoint (default: --bucket)")
	noState := fs.Bool("no-state", false, "do not read the checkpoint (deleting the newest digests then goes unnoticed)")
	noDups := fs.Bool("no-duplicates", false, "skip the duplicate-event check (saves 16 bytes of memory per event)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *bucket == "" {
		return fmt.Errorf("%w: --bucket is required", errUsage)
	}
	clients, err := awsconfig.Load(ctx, c.env)
	if err != nil {
		return err
	}
	rep, err := verify.Verify(ctx, clients.S3, verify.Options{
		Bucket: *bucket, Prefix: *prefix, OrgID: *org, StateBucket: *stateBucket,
		SkipState: *noState, SkipDuplicates: *noDups,
	})
	if err != nil {
		return err
	}
	if err := rep.Write(c.stdout); err != nil {
		return err
	}
	if !rep.OK() {
		return errVerifyFailed
	}
	return nil
}
