//lint:file-ignore SA1019 feature/s3/manager is deprecated in favour of feature/s3/transfermanager, whose v0.5.4 copies the first part of every upload (up to 5 MiB) and, for multipart uploads, Concurrency+1 further parts into memory even when the body is a file. The manager uploads a file's parts as sections of the file, without copying, which is what keeps the export's memory independent of object sizes. Revisit when transfermanager reads seekable bodies in place.

package objects

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// uploader puts a spooled object: one PutObject up to PartSize, a
// multipart upload above, its parts read straight from the file. The
// PutObjectInput's If-None-Match goes to PutObject, and to
// CompleteMultipartUpload, where S3 evaluates it for multipart uploads.
type uploader struct{ m *manager.Uploader }

func newUploader(client manager.UploadAPIClient) uploader {
	return uploader{m: manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = PartSize
		// Parts are file sections, so concurrency costs no memory.
		u.Concurrency = 3
		// A failed multipart upload is aborted: no parts linger.
		u.LeavePartsOnError = false
	})}
}

func (u uploader) upload(ctx context.Context, in *s3.PutObjectInput) error {
	_, err := u.m.Upload(ctx, in)
	return err
}
