package s3_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
)

// BenchmarkPutObject measures one conditional PutObject round trip through
// the SDK, the export function's write path.
func BenchmarkPutObject(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			srv := s3test.New(b)
			if err := srv.CreateBucket(b.Context(), bucket); err != nil {
				b.Fatal(err)
			}
			c := srv.Client()
			data := bytes.Repeat([]byte("a"), size)
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				_, err := c.PutObject(b.Context(), &awss3.PutObjectInput{
					Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("k/%d", i)),
					Body: bytes.NewReader(data), IfNoneMatch: aws.String("*"),
				})
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
