package memobjects_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
	"github.com/orgwarden/orgwarden/testenv/memobjects"
)

// objectAPI is what the packages that keep state in S3 use of it.
type objectAPI interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// outcome is what a call answered, in the terms the callers decide on:
// ok, or the HTTP status and whether it is NoSuchKey.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		return "error " + err.Error()
	}
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return fmt.Sprintf("%d NoSuchKey (modelled)", re.HTTPStatusCode())
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("%d %s", re.HTTPStatusCode(), api.ErrorCode())
	}
	return fmt.Sprint(re.HTTPStatusCode())
}

// TestBehavesLikeLocalS3 runs one script of conditional writes, reads and
// listings against the in-memory store and against the local S3 server,
// and requires the same answers: the fake the unit tests use cannot drift
// from the S3 the end-to-end tests use.
func TestBehavesLikeLocalS3(t *testing.T) {
	srv := s3test.New(t)
	if err := srv.CreateBucket(context.Background(), "state"); err != nil {
		t.Fatal(err)
	}
	run := func(api objectAPI) []string {
		ctx := context.Background()
		var log []string
		put := func(key, body string, cond func(*s3.PutObjectInput)) string {
			in := &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String(key), Body: bytes.NewReader([]byte(body))}
			if cond != nil {
				cond(in)
			}
			out, err := api.PutObject(ctx, in)
			log = append(log, "put "+key+": "+outcome(err))
			if err != nil {
				return ""
			}
			return aws.ToString(out.ETag)
		}
		get := func(key string) string {
			out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("state"), Key: aws.String(key)})
			if err != nil {
				log = append(log, "get "+key+": "+outcome(err))
				return ""
			}
			defer out.Body.Close()
			b, _ := io.ReadAll(out.Body)
			log = append(log, "get "+key+": "+string(b)+" meta="+out.Metadata["checksum"])
			return aws.ToString(out.ETag)
		}
		ifNone := func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }
		ifMatch := func(etag string) func(*s3.PutObjectInput) {
			return func(in *s3.PutObjectInput) { in.IfMatch = aws.String(etag) }
		}

		get("state.json")
		e1 := put("state.json", "v1", ifNone)
		put("state.json", "v1 again", ifNone)
		if g := get("state.json"); g != e1 {
			log = append(log, "etag of get differs from put's")
		}
		e2 := put("state.json", "v2", ifMatch(e1))
		if e2 == e1 {
			log = append(log, "etag did not change")
		}
		put("state.json", "v3 from a stale reader", ifMatch(e1))
		put("missing.json", "x", ifMatch(e1))
		put("state.json", "v3", ifMatch(e2))
		get("state.json")
		put("meta.json", "m", func(in *s3.PutObjectInput) { in.Metadata = map[string]string{"Checksum": "abc"} })
		get("meta.json")
		for _, k := range []string{"p/a", "p/b", "p/c", "q/a"} {
			put(k, k, nil)
		}
		var listed []string
		var token *string
		for {
			out, err := api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("state"), Prefix: aws.String("p/"), MaxKeys: aws.Int32(2), ContinuationToken: token})
			if err != nil {
				log = append(log, "list: "+outcome(err))
				break
			}
			for _, o := range out.Contents {
				listed = append(listed, aws.ToString(o.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			token = out.NextContinuationToken
		}
		log = append(log, fmt.Sprint("list p/: ", listed))
		return log
	}
	want := run(srv.Client())
	got := run(memobjects.New())
	if fmt.Sprint(got) != fmt.Sprint(want) {
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("step %d: memobjects %q, local S3 %q", i, g, w)
			}
		}
	}
}
