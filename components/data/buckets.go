package data

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/s3bucket"
)

// BucketRef is what services need of a bucket: its name and ARN.
type BucketRef struct {
	Name pulumi.StringOutput
	Arn  pulumi.StringOutput
}

// newBucket makes one of the stack's own buckets: private, encrypted with
// the environment's key, TLS-only, versioned and expiring when asked, and
// protected and retained where the environment protects its data.
func newBucket(ctx *pulumi.Context, name string, b config.Bucket, keyArn pulumi.StringInput, protect bool, parent pulumi.Resource) (BucketRef, error) {
	bucket, err := s3bucket.New(ctx, name, s3bucket.Args{
		KMSKeyArn: keyArn, Versioned: b.Versioned, ExpireAfterDays: b.ExpireAfterDays, Protect: protect,
		Tags: pulumi.StringMap{"Bucket": pulumi.String(b.Name)},
	}, pulumi.Parent(parent))
	if err != nil {
		return BucketRef{}, fmt.Errorf("bucket %s: %w", b.Name, err)
	}
	return BucketRef{Name: bucket.Bucket, Arn: bucket.Arn}, nil
}
