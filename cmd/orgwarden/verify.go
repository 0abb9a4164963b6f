package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
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

// errInventoryVerifyFailed is the same for the inventory's chain.
var errInventoryVerifyFailed = errors.New("the inventory does not verify")

func (c *cli) verifyCmd(ctx context.Context, args []string) error {
	r := config.NewReader(c.env)
	fs := c.flags("verify", "verify --bucket BUCKET [--prefix PREFIX] [--org ORG_ID] [--state-bucket BUCKET] [--no-state] [--no-duplicates] | verify --inventory --bucket BUCKET --org ORG_ID [--inventory-prefix PREFIX]")
	bucket := fs.String("bucket", r.String("ORGWARDEN_AUDIT_BUCKET", ""), "the export's bucket (default $ORGWARDEN_AUDIT_BUCKET)")
	prefix := fs.String("prefix", r.String("ORGWARDEN_AUDIT_PREFIX", export.DefaultPrefix), "the export's key prefix")
	org := fs.String("org", "", "verify only this organization (default: every one under the prefix)")
	stateBucket := fs.String("state-bucket", r.String("ORGWARDEN_AUDIT_STATE_BUCKET", ""), "bucket of the checkpoint (default: --bucket)")
	noState := fs.Bool("no-state", false, "do not read the checkpoint (deleting the newest digests then goes unnoticed)")
	noDups := fs.Bool("no-duplicates", false, "skip the duplicate-event check (saves 16 bytes of memory per event)")
	inventory := fs.Bool("inventory", false, "check the inventory's manifest chain instead (needs --org or $ORGWARDEN_ORG_ID)")
	inventoryPrefix := fs.String("inventory-prefix", r.String("ORGWARDEN_INVENTORY_PREFIX", snapshot.DefaultPrefix), "the inventory's key prefix")
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
	if *inventory {
		orgID := *org
		if orgID == "" {
			orgID = r.String("ORGWARDEN_ORG_ID", "")
		}
		if orgID == "" {
			return fmt.Errorf("%w: --inventory needs --org (or ORGWARDEN_ORG_ID)", errUsage)
		}
		rep, err := snapshot.Verify(ctx, snapshot.S3Store{Client: clients.S3, Bucket: *bucket},
			snapshot.Layout{Prefix: strings.Trim(*inventoryPrefix, "/"), OrgID: orgID})
		if err != nil {
			return err
		}
		if err := rep.Write(c.stdout); err != nil {
			return err
		}
		if !rep.OK() {
			return errInventoryVerifyFailed
		}
		return nil
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
