// Package e2e runs orgwarden's real bootstrap binaries as Lambda runs them:
// each function is built for the host with the release flags and started
// as a child process of a Lambda Runtime API server on loopback
// (testenv/runtimeapi), beside the Admin API emulator (validating every
// request against the OpenAPI document) and the local S3, Secrets Manager,
// SQS and EventBridge, provisioned as the CDK stack provisions AWS. Tests
// send the events AWS would send and assert the outcome in the emulators,
// the bucket and the responses.
//
// The suite runs with `make e2e` (ORGWARDEN_E2E=1); under a plain
// `go test ./...` its tests skip. See e2e/e2e.mk for the knobs.
package e2e

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ExportedEvent is one line of an exported object.
type ExportedEvent struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	EffectiveAt int64  `json:"effective_at"`
	Key         string `json:"-"` // the object holding it
}

// ReadExport reads every data object under prefix (gzip JSON Lines, one
// audit event per line) without the exporter's own code, as a consumer of
// the bucket (Athena, a SIEM) would, and returns the events in the order
// found and the number of objects.
func ReadExport(ctx context.Context, c *s3.Client, bucket, prefix string) ([]ExportedEvent, int, error) {
	var out []ExportedEvent
	objects := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("list %s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !strings.HasSuffix(key, ".jsonl.gz") {
				continue
			}
			objects++
			evs, err := readObject(ctx, c, bucket, key)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, evs...)
		}
	}
	return out, objects, nil
}

func readObject(ctx context.Context, c *s3.Client, bucket, key string) ([]ExportedEvent, error) {
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer obj.Body.Close()
	zr, err := gzip.NewReader(obj.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: not gzip: %w", key, err)
	}
	var out []ExportedEvent
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var ev ExportedEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.ID == "" {
			return nil, fmt.Errorf("%s line %d: not an audit event: %v", key, n, err)
		}
		ev.Key = key
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return out, nil
}

// Diff compares exported event ids with the organization's: ids exported
// more than once, missing, and exported without being in the organization.
func Diff(exported []ExportedEvent, want []string) (dups, missing, extra []string) {
	count := map[string]int{}
	for _, e := range exported {
		count[e.ID]++
		if count[e.ID] == 2 {
			dups = append(dups, e.ID)
		}
	}
	in := map[string]bool{}
	for _, id := range want {
		in[id] = true
		if count[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id := range count {
		if !in[id] {
			extra = append(extra, id)
		}
	}
	return dups, missing, extra
}
