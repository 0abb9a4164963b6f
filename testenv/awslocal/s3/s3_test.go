package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	s3local "github.com/orgwarden/orgwarden/testenv/awslocal/s3"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
)

const bucket = "audit"

func newBucket(t *testing.T) (*s3local.Server, *awss3.Client) {
	t.Helper()
	srv := s3test.New(t)
	if err := srv.CreateBucket(t.Context(), bucket); err != nil {
		t.Fatal(err)
	}
	return srv, srv.Client()
}

func put(t *testing.T, c *awss3.Client, key, body string, mutate ...func(*awss3.PutObjectInput)) *awss3.PutObjectOutput {
	t.Helper()
	out, err := tryPut(t.Context(), c, key, body, mutate...)
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return out
}

func tryPut(ctx context.Context, c *awss3.Client, key, body string, mutate ...func(*awss3.PutObjectInput)) (*awss3.PutObjectOutput, error) {
	in := &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}
	for _, m := range mutate {
		m(in)
	}
	return c.PutObject(ctx, in)
}

func get(t *testing.T, c *awss3.Client, key string) (string, *awss3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(b), out
}

// status returns the HTTP status of a failed SDK call and its S3 error code.
func status(err error) (int, string) {
	var re *awshttp.ResponseError
	var api smithy.APIError
	code, st := "", 0
	if errors.As(err, &re) {
		st = re.HTTPStatusCode()
	}
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	return st, code
}

func TestObjectRoundTrip(t *testing.T) {
	_, c := newBucket(t)
	ctx := t.Context()

	out := put(t, c, "a/b.json", `{"x":1}`, func(in *awss3.PutObjectInput) {
		in.ContentType = aws.String("application/json")
		in.Metadata = map[string]string{"run-id": "r1"}
	})
	if aws.ToString(out.ETag) == "" {
		t.Fatal("PutObject returned no ETag")
	}

	body, got := get(t, c, "a/b.json")
	if body != `{"x":1}` {
		t.Errorf("body = %q", body)
	}
	if aws.ToString(got.ContentType) != "application/json" || got.Metadata["run-id"] != "r1" {
		t.Errorf("content type %q, metadata %v", aws.ToString(got.ContentType), got.Metadata)
	}
	if aws.ToString(got.ETag) != aws.ToString(out.ETag) {
		t.Errorf("GET ETag %s, PUT ETag %s", aws.ToString(got.ETag), aws.ToString(out.ETag))
	}

	head, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b.json")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != 7 || aws.ToString(head.ETag) != aws.ToString(out.ETag) {
		t.Errorf("HEAD length %d etag %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag))
	}

	if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b.json")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b.json")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HEAD after delete: want NotFound, got %v", err)
	}
	_, err = c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b.json")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("GET after delete: want NoSuchKey, got %v", err)
	}
}

func TestGetFromMissingBucket(t *testing.T) {
	srv := s3test.New(t)
	_, err := srv.Client().GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String("k")})
	if st, code := status(err); st != http.StatusNotFound || code != "NoSuchBucket" {
		t.Fatalf("want 404 NoSuchBucket, got %v", err)
	}
}

func TestListObjectsV2(t *testing.T) {
	_, c := newBucket(t)
	keys := []string{
		"openai-audit-logs/org=o1/dt=2026-01-01/a.jsonl.gz",
		"openai-audit-logs/org=o1/dt=2026-01-01/b.jsonl.gz",
		"openai-audit-logs/org=o1/dt=2026-01-02/a.jsonl.gz",
		"openai-audit-logs/org=o2/dt=2026-01-01/a.jsonl.gz",
		"openai-audit-logs/_checkpoint.json",
		"other/x",
	}
	for _, k := range keys {
		put(t, c, k, "data")
	}

	tests := []struct {
		name      string
		in        awss3.ListObjectsV2Input
		wantKeys  []string
		wantPrefs []string
	}{
		{
			name:     "prefix",
			in:       awss3.ListObjectsV2Input{Prefix: aws.String("openai-audit-logs/org=o1/")},
			wantKeys: keys[:3],
		},
		{
			name:      "delimiter groups partitions",
			in:        awss3.ListObjectsV2Input{Prefix: aws.String("openai-audit-logs/org=o1/"), Delimiter: aws.String("/")},
			wantPrefs: []string{"openai-audit-logs/org=o1/dt=2026-01-01/", "openai-audit-logs/org=o1/dt=2026-01-02/"},
		},
		{
			name:      "top level",
			in:        awss3.ListObjectsV2Input{Prefix: aws.String("openai-audit-logs/"), Delimiter: aws.String("/")},
			wantKeys:  []string{"openai-audit-logs/_checkpoint.json"},
			wantPrefs: []string{"openai-audit-logs/org=o1/", "openai-audit-logs/org=o2/"},
		},
		{
			name:     "start after",
			in:       awss3.ListObjectsV2Input{Prefix: aws.String("openai-audit-logs/org="), StartAfter: aws.String(keys[1])},
			wantKeys: keys[2:4],
		},
		{
			name:     "pages of two",
			in:       awss3.ListObjectsV2Input{MaxKeys: aws.Int32(2)},
			wantKeys: sorted(keys),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Bucket = aws.String(bucket)
			var gotKeys, gotPrefs []string
			pages := 0
			p := awss3.NewListObjectsV2Paginator(c, &in)
			for p.HasMorePages() {
				page, err := p.NextPage(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if in.MaxKeys != nil && len(page.Contents) > int(*in.MaxKeys) {
					t.Errorf("page has %d keys, MaxKeys %d", len(page.Contents), *in.MaxKeys)
				}
				for _, o := range page.Contents {
					gotKeys = append(gotKeys, aws.ToString(o.Key))
				}
				for _, cp := range page.CommonPrefixes {
					gotPrefs = append(gotPrefs, aws.ToString(cp.Prefix))
				}
			}
			if !slices.Equal(gotKeys, tt.wantKeys) {
				t.Errorf("keys = %v, want %v", gotKeys, tt.wantKeys)
			}
			if !slices.Equal(gotPrefs, tt.wantPrefs) {
				t.Errorf("prefixes = %v, want %v", gotPrefs, tt.wantPrefs)
			}
			if in.MaxKeys != nil && pages != (len(tt.wantKeys)+1)/2 {
				t.Errorf("pages = %d, want %d", pages, (len(tt.wantKeys)+1)/2)
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestConditionalPut(t *testing.T) {
	tests := []struct {
		name       string
		existing   bool
		condition  func(in *awss3.PutObjectInput, etag string)
		wantStatus int
		wantCode   string
	}{
		{
			name:      "if-none-match on a new key",
			condition: func(in *awss3.PutObjectInput, _ string) { in.IfNoneMatch = aws.String("*") },
		},
		{
			name:       "if-none-match on an existing key",
			existing:   true,
			condition:  func(in *awss3.PutObjectInput, _ string) { in.IfNoneMatch = aws.String("*") },
			wantStatus: http.StatusPreconditionFailed,
			wantCode:   "PreconditionFailed",
		},
		{
			name:      "if-match with the current etag",
			existing:  true,
			condition: func(in *awss3.PutObjectInput, etag string) { in.IfMatch = aws.String(etag) },
		},
		{
			name:     "if-match with a stale etag",
			existing: true,
			condition: func(in *awss3.PutObjectInput, _ string) {
				in.IfMatch = aws.String(`"0123456789abcdef0123456789abcdef"`)
			},
			wantStatus: http.StatusPreconditionFailed,
			wantCode:   "PreconditionFailed",
		},
		{
			name: "if-match on a missing key",
			condition: func(in *awss3.PutObjectInput, _ string) {
				in.IfMatch = aws.String(`"0123456789abcdef0123456789abcdef"`)
			},
			wantStatus: http.StatusNotFound,
			wantCode:   "NoSuchKey",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newBucket(t)
			etag := ""
			if tt.existing {
				etag = aws.ToString(put(t, c, "k", "old").ETag)
			}
			_, err := tryPut(t.Context(), c, "k", "new", func(in *awss3.PutObjectInput) { tt.condition(in, etag) })
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("put: %v", err)
				}
				if body, _ := get(t, c, "k"); body != "new" {
					t.Errorf("body = %q, want new", body)
				}
				return
			}
			st, code := status(err)
			if st != tt.wantStatus || code != tt.wantCode {
				t.Fatalf("got status %d code %q (%v), want %d %q", st, code, err, tt.wantStatus, tt.wantCode)
			}
			if tt.existing {
				if body, _ := get(t, c, "k"); body != "old" {
					t.Errorf("failed conditional write changed the object to %q", body)
				}
			}
		})
	}
}

// TestConditionalWritersRace races writers on one key: with If-None-Match
// exactly one creates it; with If-Match on the same ETag exactly one
// replaces it. The losers get 412.
func TestConditionalWritersRace(t *testing.T) {
	const writers = 8
	tests := []struct {
		name      string
		seed      bool
		condition func(etag string) func(*awss3.PutObjectInput)
	}{
		{"create only", false, func(string) func(*awss3.PutObjectInput) {
			return func(in *awss3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }
		}},
		{"compare and swap", true, func(etag string) func(*awss3.PutObjectInput) {
			return func(in *awss3.PutObjectInput) { in.IfMatch = aws.String(etag) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newBucket(t)
			etag := ""
			if tt.seed {
				etag = aws.ToString(put(t, c, "lock", "seed").ETag)
			}
			var wg sync.WaitGroup
			results := make([]error, writers)
			start := make(chan struct{})
			for i := range writers {
				wg.Go(func() {
					<-start
					_, results[i] = tryPut(t.Context(), c, "lock", fmt.Sprintf("writer-%d", i), tt.condition(etag))
				})
			}
			close(start)
			wg.Wait()

			winner := -1
			for i, err := range results {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("writers %d and %d both won", winner, i)
					}
					winner = i
					continue
				}
				if st, _ := status(err); st != http.StatusPreconditionFailed {
					t.Errorf("writer %d: want 412, got %v", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			if body, _ := get(t, c, "lock"); body != fmt.Sprintf("writer-%d", winner) {
				t.Errorf("object holds %q, winner was %d", body, winner)
			}
		})
	}
}

func TestServerSideEncryptionHeaders(t *testing.T) {
	const keyARN = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	tests := []struct {
		name    string
		mutate  func(*awss3.PutObjectInput)
		wantSSE types.ServerSideEncryption
		wantKey string
	}{
		{"bucket default is SSE-S3", func(*awss3.PutObjectInput) {}, types.ServerSideEncryptionAes256, ""},
		{"SSE-KMS with a key id", func(in *awss3.PutObjectInput) {
			in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
			in.SSEKMSKeyId = aws.String(keyARN)
		}, types.ServerSideEncryptionAwsKms, keyARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newBucket(t)
			out := put(t, c, "enc", "data", tt.mutate)
			if out.ServerSideEncryption != tt.wantSSE || aws.ToString(out.SSEKMSKeyId) != tt.wantKey {
				t.Errorf("PutObject: sse %q key %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
			}
			head, err := c.HeadObject(t.Context(), &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("enc")})
			if err != nil {
				t.Fatal(err)
			}
			if head.ServerSideEncryption != tt.wantSSE || aws.ToString(head.SSEKMSKeyId) != tt.wantKey {
				t.Errorf("HeadObject: sse %q key %q", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
			}
		})
	}
}

// TestOverwriteReplacesMetadata: S3 replaces an object's metadata on every
// write; gofakes3 alone kept the old object's keys.
func TestOverwriteReplacesMetadata(t *testing.T) {
	_, c := newBucket(t)
	put(t, c, "k", "first", func(in *awss3.PutObjectInput) {
		in.Metadata = map[string]string{"stale": "yes", "kept": "1"}
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String("alias/audit")
	})
	put(t, c, "k", "second", func(in *awss3.PutObjectInput) {
		in.Metadata = map[string]string{"kept": "2"}
	})
	body, out := get(t, c, "k")
	if body != "second" {
		t.Fatalf("body = %q", body)
	}
	if _, ok := out.Metadata["stale"]; ok || out.Metadata["kept"] != "2" {
		t.Errorf("metadata = %v, want only kept=2", out.Metadata)
	}
	if out.ServerSideEncryption != types.ServerSideEncryptionAes256 || out.SSEKMSKeyId != nil {
		t.Errorf("sse = %q key %v, want the new write's AES256", out.ServerSideEncryption, out.SSEKMSKeyId)
	}
}

func TestGetRangeAndChecksums(t *testing.T) {
	_, c := newBucket(t)
	data := bytes.Repeat([]byte("0123456789"), 100)
	put(t, c, "r", string(data), func(in *awss3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 })

	out, err := c.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("r"), Range: aws.String("bytes=10-19")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	part, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read ranged body (the SDK validates checksums it is sent): %v", err)
	}
	if string(part) != "0123456789" || aws.ToString(out.ContentRange) != "bytes 10-19/1000" {
		t.Errorf("range body %q content-range %q", part, aws.ToString(out.ContentRange))
	}
}

// IgnoreConditions plays a server that drops conditional headers: a
// create-only write over an existing object lands.
func TestIgnoreConditions(t *testing.T) {
	srv := s3test.New(t)
	if err := srv.CreateBucket(t.Context(), "bkt"); err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	putOnce := func() error {
		_, err := c.PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
		return err
	}
	if err := putOnce(); err != nil {
		t.Fatal(err)
	}
	if err := putOnce(); err == nil {
		t.Fatal("a create-only write over an existing object succeeded")
	}
	srv.IgnoreConditions(true)
	if err := putOnce(); err != nil {
		t.Fatalf("with conditions ignored: %v", err)
	}
}
