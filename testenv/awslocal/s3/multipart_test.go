//lint:file-ignore SA1019 the audit export uploads with feature/s3/manager (see functions/auditexport/export/objects/upload.go), so the local S3 is tested with it

package s3_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const partSize = 5 << 20 // the S3 minimum for every part but the last

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func upload(t *testing.T, c *awss3.Client, key string, data []byte, mutate ...func(*awss3.PutObjectInput)) (*manager.UploadOutput, error) {
	t.Helper()
	in := &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}
	for _, m := range mutate {
		m(in)
	}
	up := manager.NewUploader(c, func(u *manager.Uploader) {
		u.PartSize = partSize
		u.Concurrency = 3
	})
	return up.Upload(t.Context(), in)
}

var multipartETag = regexp.MustCompile(`^"[0-9a-f]{32}-(\d+)"$`)

func TestMultipartUploadThroughManager(t *testing.T) {
	_, c := newBucket(t)
	const kms = "arn:aws:kms:us-east-1:000000000000:key/audit"
	data := randomBytes(t, 2*partSize+12345) // three parts

	out, err := upload(t, c, "big.jsonl.gz", data, func(in *awss3.PutObjectInput) {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(kms)
	})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if out.UploadID == "" || len(out.CompletedParts) != 3 {
		t.Fatalf("upload id %q, %d parts: not a multipart upload", out.UploadID, len(out.CompletedParts))
	}
	m := multipartETag.FindStringSubmatch(aws.ToString(out.ETag))
	if m == nil || m[1] != "3" {
		t.Errorf("upload ETag %s is not the multipart form for 3 parts", aws.ToString(out.ETag))
	}
	if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != kms {
		t.Errorf("upload sse %q key %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
	}

	head, err := c.HeadObject(t.Context(), &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.jsonl.gz")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.ETag) != aws.ToString(out.ETag) {
		t.Errorf("HEAD ETag %s, upload ETag %s", aws.ToString(head.ETag), aws.ToString(out.ETag))
	}
	if aws.ToInt64(head.ContentLength) != int64(len(data)) {
		t.Errorf("HEAD length %d, want %d", aws.ToInt64(head.ContentLength), len(data))
	}
	if head.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) != kms {
		t.Errorf("HEAD sse %q key %q", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
	}

	// The downloader reads in ranged parts and sends If-Match with the ETag
	// of the first response.
	buf := manager.NewWriteAtBuffer(nil)
	n, err := manager.NewDownloader(c, func(d *manager.Downloader) { d.PartSize = partSize }).Download(t.Context(), buf,
		&awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.jsonl.gz")})
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("downloaded %d bytes, content equal: %v", n, bytes.Equal(buf.Bytes(), data))
	}
}

// TestConditionalMultipartUpload: gofakes3 alone ignored If-None-Match and
// If-Match on CompleteMultipartUpload.
func TestConditionalMultipartUpload(t *testing.T) {
	tests := []struct {
		name       string
		secondSize int // below partSize the uploader sends one PutObject
		condition  func(in *awss3.PutObjectInput, existingETag string)
		wantStatus int
	}{
		{"create only over an existing object", partSize + 2, func(in *awss3.PutObjectInput, _ string) { in.IfNoneMatch = aws.String("*") }, http.StatusPreconditionFailed},
		{"if-match with a stale etag", partSize + 2, func(in *awss3.PutObjectInput, _ string) {
			in.IfMatch = aws.String(`"00000000000000000000000000000000-2"`)
		}, http.StatusPreconditionFailed},
		{"if-match with the multipart etag", partSize + 2, func(in *awss3.PutObjectInput, etag string) { in.IfMatch = aws.String(etag) }, 0},
		{"single put with if-match of the multipart etag", 100, func(in *awss3.PutObjectInput, etag string) { in.IfMatch = aws.String(etag) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newBucket(t)
			first := randomBytes(t, partSize+1)
			out, err := upload(t, c, "obj", first)
			if err != nil {
				t.Fatal(err)
			}
			second := randomBytes(t, tt.secondSize)
			_, err = upload(t, c, "obj", second, func(in *awss3.PutObjectInput) { tt.condition(in, aws.ToString(out.ETag)) })

			want := second
			if tt.wantStatus != 0 {
				if st, _ := status(err); st != tt.wantStatus {
					t.Fatalf("second upload: want status %d, got %v", tt.wantStatus, err)
				}
				want = first
			} else if err != nil {
				t.Fatalf("second upload: %v", err)
			}
			if body, _ := get(t, c, "obj"); body != string(want) {
				t.Errorf("object holds %d bytes, not the expected upload", len(body))
			}
		})
	}
}

// TestMultipartOverwriteOfSinglePut: the stale CRC32 of an earlier
// single-part upload must not survive onto the multipart object, or the SDK
// rejects the GET.
func TestMultipartOverwriteOfSinglePut(t *testing.T) {
	_, c := newBucket(t)
	put(t, c, "obj", "small", func(in *awss3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 })
	data := randomBytes(t, partSize+10)
	if _, err := upload(t, c, "obj", data); err != nil {
		t.Fatal(err)
	}
	if body, _ := get(t, c, "obj"); body != string(data) {
		t.Errorf("got %d bytes, want the multipart object", len(body))
	}
}
