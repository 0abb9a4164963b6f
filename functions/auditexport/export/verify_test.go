package export_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// exportThreeGenerations makes an export with several objects per
// generation: a backfill, an incremental run with new events, and a run
// with nothing new.
func exportThreeGenerations(t *testing.T) *env {
	t.Helper()
	seed := adminapi.SmallSeed(11)
	e := newEnv(t, envOptions{seed: &seed, cfg: func(c *export.Config) { c.RolloverEvents = 400 }})
	e.run(export.Request{Since: e.clock.Now().Add(-30 * 24 * time.Hour).Unix()})
	e.clock.Advance(20 * time.Minute)
	for i := range 30 {
		e.appendEvent(fmt.Sprintf("audit_log-v%02d", i), e.clock.Now().Unix()-int64(1+i), "")
	}
	e.run(export.Request{})
	e.clock.Advance(15 * time.Minute)
	e.run(export.Request{})
	return e
}

func (e *env) verify(opts verify.Options) verify.Report {
	e.t.Helper()
	if opts.Bucket == "" {
		opts.Bucket, opts.Prefix = testBucket, "audit"
	}
	rep, err := verify.Verify(context.Background(), e.client, opts)
	if err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestVerifyCleanExport(t *testing.T) {
	e := exportThreeGenerations(t)
	rep := e.verify(verify.Options{})
	var out bytes.Buffer
	_ = rep.Write(&out)
	if !rep.OK() || len(rep.Orgs) != 1 {
		t.Fatalf("clean export does not verify:\n%s", out.String())
	}
	o := rep.Orgs[0]
	if o.Digests != 3 || o.Newest != 3 || o.Events != int64(e.emu.Emulator.AuditEventCount()) || len(o.Findings) != 0 {
		t.Fatalf("report %+v", o)
	}
	if !strings.Contains(out.String(), "OK: the digest chain and every object verify") {
		t.Fatalf("report text:\n%s", out.String())
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, e *env)
		want   verify.Kind
	}{
		{"one byte changed in an object", func(t *testing.T, e *env) {
			key := e.dataKeys()[1]
			b := e.getObject(key)
			b[len(b)/2] ^= 0x01
			e.putObject(key, b)
		}, verify.ModifiedObject},
		{"object re-compressed with an event edited", func(t *testing.T, e *env) {
			key := e.dataKeys()[0]
			plain := gunzip(t, e.getObject(key))
			plain = strings.Replace(plain, `"type":"`, `"type":"x`, 1)
			e.putObject(key, gzipBytes(t, plain))
		}, verify.ModifiedObject},
		{"object deleted", func(t *testing.T, e *env) {
			e.deleteObject(e.dataKeys()[2])
		}, verify.MissingObject},
		{"object added", func(t *testing.T, e *env) {
			key := e.exporter(nil).Layout().DataKey(e.clock.Now().Unix(), 2, 999, 0)
			e.putObject(key, gzipBytes(t, `{"id":"audit_log-forged","type":"login.succeeded","effective_at":1}`+"\n"))
		}, verify.InsertedObject},
		{"object with another name added", func(t *testing.T, e *env) {
			e.putObject(e.exporter(nil).Layout().DataPrefix()+"year=2025/month=06/day=15/extra.jsonl.gz", gzipBytes(t, "\n"))
		}, verify.InsertedObject},
		{"oldest digest deleted", func(t *testing.T, e *env) {
			e.deleteObject(e.exporter(nil).Layout().DigestKey(1))
		}, verify.MissingDigest},
		{"middle digest deleted", func(t *testing.T, e *env) {
			e.deleteObject(e.exporter(nil).Layout().DigestKey(2))
		}, verify.MissingDigest},
		{"newest digest deleted", func(t *testing.T, e *env) {
			e.deleteObject(e.exporter(nil).Layout().DigestKey(3))
		}, verify.MissingDigest},
		{"digest modified", func(t *testing.T, e *env) {
			key := e.exporter(nil).Layout().DigestKey(1)
			e.putObject(key, bytes.Replace(e.getObject(key), []byte(`"sealed_at": "2025`), []byte(`"sealed_at": "2024`), 1))
		}, verify.BrokenChain},
		{"newest digest modified", func(t *testing.T, e *env) {
			key := e.exporter(nil).Layout().DigestKey(3)
			e.putObject(key, bytes.Replace(e.getObject(key), []byte(`"sealed_at": "2025`), []byte(`"sealed_at": "2024`), 1))
		}, verify.ModifiedDigest},
		{"digest added", func(t *testing.T, e *env) {
			key := e.exporter(nil).Layout().DigestKey(4)
			e.putObject(key, e.getObject(e.exporter(nil).Layout().DigestKey(3)))
		}, verify.ModifiedDigest},
		{"foreign file among digests", func(t *testing.T, e *env) {
			e.putObject(e.exporter(nil).Layout().DigestPrefix()+"notes.txt", []byte("hi"))
		}, verify.InsertedDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := exportThreeGenerations(t)
			tt.tamper(t, e)
			rep := e.verify(verify.Options{})
			var out bytes.Buffer
			_ = rep.Write(&out)
			if rep.OK() {
				t.Fatalf("tampering not detected:\n%s", out.String())
			}
			found := false
			for _, f := range rep.Orgs[0].Findings {
				found = found || f.Kind == tt.want
			}
			if !found {
				t.Fatalf("want a %q finding:\n%s", tt.want, out.String())
			}
			if !strings.Contains(out.String(), "FAILED") {
				t.Fatalf("report does not say FAILED:\n%s", out.String())
			}
		})
	}
}

func (e *env) dataKeys() []string {
	keys := e.keys(e.exporter(nil).Layout().DataPrefix())
	if len(keys) < 3 {
		e.t.Fatalf("want at least 3 data objects, have %d", len(keys))
	}
	return keys
}

func (e *env) getObject(key string) []byte {
	e.t.Helper()
	out, err := e.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) putObject(key string, body []byte) {
	e.t.Helper()
	if _, err := e.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) deleteObject(key string) {
	e.t.Helper()
	if _, err := e.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)}); err != nil {
		e.t.Fatal(err)
	}
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// With the checkpoint in a bucket of its own, verify reads it there: that
// is what catches the deletion of the newest digest, which the chain alone
// cannot show.
func TestVerifyWithSeparateStateBucket(t *testing.T) {
	seed := adminapi.SmallSeed(13)
	e := newEnv(t, envOptions{seed: &seed, cfg: func(c *export.Config) { c.StateBucket = "state-bucket" }})
	if err := e.s3.CreateBucket(context.Background(), "state-bucket"); err != nil {
		t.Fatal(err)
	}
	e.run(export.Request{Since: e.clock.Now().Add(-30 * 24 * time.Hour).Unix()})
	e.clock.Advance(15 * time.Minute)
	e.run(export.Request{})
	if keys := e.keys("audit/_state/"); len(keys) != 0 {
		t.Fatalf("checkpoint written to the audit bucket: %v", keys)
	}
	withState := verify.Options{Bucket: testBucket, Prefix: "audit", StateBucket: "state-bucket"}
	if rep := e.verify(withState); !rep.OK() {
		t.Fatal("clean export does not verify")
	}
	e.deleteObject(e.exporter(nil).Layout().DigestKey(2))
	if rep := e.verify(withState); rep.OK() {
		t.Fatal("deleting the newest digest went unnoticed with the checkpoint at hand")
	}
	if rep := e.verify(verify.Options{Bucket: testBucket, Prefix: "audit", SkipState: true}); !rep.OK() {
		t.Fatal("without the checkpoint, the shortened chain should still look whole (the documented limit)")
	}
}
