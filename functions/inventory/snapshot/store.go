package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// ErrExists and ErrNotFound are the audit export's: a conditional write
// found the key taken, or a read found nothing.
var (
	ErrExists   = objects.ErrExists
	ErrNotFound = objects.ErrNotFound
)

// Store is where snapshots live: the audit bucket. It is declared here, by
// its user, so that tests can use an in-memory one.
type Store interface {
	// Create writes key only if it holds nothing (If-None-Match: *), else
	// ErrExists.
	Create(ctx context.Context, key string, body []byte) error
	// Replace writes key only if it still holds the object with etag
	// (If-Match), else ErrExists.
	Replace(ctx context.Context, key string, body []byte, etag string) error
	// Get returns the object at key and its ETag, or ErrNotFound.
	Get(ctx context.Context, key string) (body []byte, etag string, err error)
	// List returns every key under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// S3Store is a Store in one S3 bucket, every object written with SSE-KMS
// under KMSKeyID when it is set (otherwise the bucket's default).
type S3Store struct {
	Client   *s3.Client
	Bucket   string
	KMSKeyID string
}

// MaxObject is the largest object Get reads.
const MaxObject = 1 << 30

func (s S3Store) put(ctx context.Context, key string, body []byte, ifNoneMatch, ifMatch string) error {
	ct := "application/json"
	if strings.HasSuffix(key, ".gz") {
		ct = objects.ContentType
	}
	in := &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String(ct)}
	if ifNoneMatch != "" {
		in.IfNoneMatch = aws.String(ifNoneMatch)
	}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	if s.KMSKeyID != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(s.KMSKeyID)
	}
	if _, err := s.Client.PutObject(ctx, in); err != nil {
		err = objects.Classify(err)
		if errors.Is(err, ErrNotFound) && ifMatch != "" {
			// If-Match on a key that vanished: someone else is at work.
			err = errors.Join(ErrExists, err)
		}
		return fmt.Errorf("write s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// Create implements Store.
func (s S3Store) Create(ctx context.Context, key string, body []byte) error {
	return s.put(ctx, key, body, "*", "")
}

// Replace implements Store.
func (s S3Store) Replace(ctx context.Context, key string, body []byte, etag string) error {
	return s.put(ctx, key, body, "", etag)
}

// Get implements Store.
func (s S3Store) Get(ctx context.Context, key string) ([]byte, string, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, "", fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, objects.Classify(err))
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, MaxObject+1))
	if err != nil {
		return nil, "", fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	if len(b) > MaxObject {
		return nil, "", fmt.Errorf("read s3://%s/%s: larger than %d bytes", s.Bucket, key, MaxObject)
	}
	return b, aws.ToString(out.ETag), nil
}

// List implements Store.
func (s S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}
