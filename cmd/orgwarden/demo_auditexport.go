package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
	"github.com/orgwarden/orgwarden/shared/app"
)

// auditExportDemo backfills the demo organization's audit log into the
// local audit bucket, runs the scheduled Lambda handler after new and late
// events (including everything the earlier steps did), verifies the digest
// chain, and shows verify catching a one-byte change.
func auditExportDemo() demoStep {
	return demoStep{name: export.Function, run: runAuditExportDemo}
}

func runAuditExportDemo(ctx context.Context, d *demo) error {
	f, err := export.FromEnv(ctx, d.env(nil), app.Options{Out: d.logs})
	if err != nil {
		return err
	}
	cfg := f.Config()
	s3c := d.aws.S3.Client()

	// 1. Backfill the seeded history (four weeks) with progress lines.
	since := time.Now().Add(-30 * 24 * time.Hour).UTC()
	var last export.Progress
	res, err := f.Run(ctx, export.Request{Since: since.Unix(), Progress: func(p export.Progress) {
		if p.Job == "backfill" {
			last = p
		}
	}})
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	d.printf("    backfill --since %s: %d events in %d objects (%d KiB gzip), generation %d, %d list calls\n",
		since.Format(time.DateOnly), res.Events, res.Objects, res.Bytes/1024, res.Generation, res.ListCalls)
	d.printf("    progress as the CLI shows it: %s\n", last)

	// 2. Activity after the backfill: an event that becomes visible late
	// (ten minutes in the past), one of a type this version has never
	// seen, and whatever the earlier demo steps did.
	now := time.Now().Unix()
	late := fmt.Sprintf(`{"id":"audit_log-demo-late","type":"api_key.deleted","effective_at":%d,"api_key.deleted":{"id":"key_demo"}}`, now-600)
	future := fmt.Sprintf(`{"id":"audit_log-demo-future","type":"workspace.hologram.enabled","effective_at":%d,"workspace.hologram.enabled":{"id":"ws_1","x_new_field":[1,2,3]}}`, now-5)
	for _, raw := range []string{late, future} {
		if err := d.emu.AppendAuditEvent([]byte(raw)); err != nil {
			return err
		}
	}
	h := lambda.NewHandler(f.Handle)
	scheduled := `{"version":"0","id":"demo","detail-type":"Scheduled Event","source":"aws.events","time":"` +
		time.Now().UTC().Format(time.RFC3339) + `","detail":{}}`
	out, err := h.Invoke(ctx, []byte(scheduled))
	if err != nil {
		return fmt.Errorf("scheduled run: %w", err)
	}
	var first export.Result
	if err := json.Unmarshal(out, &first); err != nil {
		return err
	}
	second, err := f.Run(ctx, export.Request{})
	if err != nil {
		return err
	}
	d.printf("    scheduled Lambda run (generation %d): %d new events, %d already exported skipped, %d list calls\n",
		first.Generation, first.Events, first.Duplicates, first.ListCalls)
	d.printf("    next run, nothing new (generation %d): %d new events, %d skipped, %d list calls\n",
		second.Generation, second.Events, second.Duplicates, second.ListCalls)

	// 3. The bucket holds every event exactly once, the unknown one byte for byte.
	ids, lines, err := exportedEvents(ctx, s3c, cfg.Bucket, f)
	if err != nil {
		return err
	}
	want := d.emu.AuditEventIDs()
	dups := len(ids) - len(lines)
	missing := 0
	for _, id := range want {
		if _, ok := lines[id]; !ok {
			missing++
		}
	}
	d.printf("    bucket: %d events, emulator: %d; missing %d, duplicated %d; unknown event type stored byte for byte: %v\n",
		len(ids), len(want), missing, dups, lines["audit_log-demo-future"] == future)
	if missing > 0 || dups > 0 || len(lines) != len(want) || lines["audit_log-demo-future"] != future {
		return fmt.Errorf("the export is not the emulator's audit log exactly once")
	}

	// 4. orgwarden verify, on the clean export and after a one-byte change.
	opts := verify.Options{Bucket: cfg.Bucket, Prefix: cfg.Prefix, StateBucket: cfg.StateBucket}
	rep, err := verify.Verify(ctx, s3c, opts)
	if err != nil {
		return err
	}
	if !rep.OK() {
		var b strings.Builder
		_ = rep.Write(&b)
		return fmt.Errorf("verify failed on a clean export:\n%s", b.String())
	}
	o := rep.Orgs[0]
	d.printf("    verify --bucket %s --prefix %s: OK (%d digests, %d objects, %d events)\n", cfg.Bucket, cfg.Prefix, o.Digests, o.Objects, o.Events)

	key := f.Exporter().Layout().DataPrefix()
	keys, err := listKeys(ctx, s3c, cfg.Bucket, key)
	if err != nil || len(keys) == 0 {
		return fmt.Errorf("list data objects: %v", err)
	}
	victim := keys[len(keys)/2]
	orig, err := getObject(ctx, s3c, cfg.Bucket, victim)
	if err != nil {
		return err
	}
	changed := bytes.Clone(orig)
	changed[len(changed)/2] ^= 0x20
	if err := putObject(ctx, s3c, cfg.Bucket, victim, changed); err != nil {
		return err
	}
	rep, err = verify.Verify(ctx, s3c, opts)
	if err != nil {
		return err
	}
	if rep.OK() {
		return fmt.Errorf("verify missed a changed byte in %s", victim)
	}
	d.printf("    one byte changed in %s:\n", victim[strings.LastIndex(victim, "/")+1:])
	for _, fnd := range rep.Orgs[0].Findings {
		d.printf("      verify: %s: %s\n", fnd.Kind, fnd.Detail)
	}
	if err := putObject(ctx, s3c, cfg.Bucket, victim, orig); err != nil {
		return err
	}
	if rep, err = verify.Verify(ctx, s3c, opts); err != nil || !rep.OK() {
		return fmt.Errorf("verify after restoring the object: ok=%v, %v", rep.OK(), err)
	}
	d.printf("    restored: verify OK again\n")
	return nil
}

// exportedEvents reads every data object back: every id in order of
// appearance, and each event's line by id.
func exportedEvents(ctx context.Context, client *s3.Client, bucket string, f *export.Handler) ([]string, map[string]string, error) {
	keys, err := listKeys(ctx, client, bucket, f.Exporter().Layout().DataPrefix())
	if err != nil {
		return nil, nil, err
	}
	store := objects.NewStore(client, bucket, objects.Options{})
	var ids []string
	lines := map[string]string{}
	for _, k := range keys {
		if _, err := store.Read(ctx, k, func(l objects.Line) error {
			ids = append(ids, l.ID)
			lines[l.ID] = string(l.Raw)
			return nil
		}); err != nil {
			return nil, nil, err
		}
	}
	return ids, lines, nil
}

func listKeys(ctx context.Context, client *s3.Client, bucket, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}

func getObject(ctx context.Context, client *s3.Client, bucket, key string) ([]byte, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func putObject(ctx context.Context, client *s3.Client, bucket, key string, body []byte) error {
	_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}
