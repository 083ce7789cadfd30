package platform

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RetainedOnRetire are the types a retiring environment's destroy leaves in
// the account: what holds the data, what decrypts it, and what keeps it
// undeletable. The KMS keys decrypt the final snapshots and the recovery
// points; the vaults hold the recovery points, their policies refuse their
// deletion and their locks bound their retention; the buckets keep their
// objects and settings; the secrets keep the tenants' credentials; the
// onboarding registry keeps the run-time tenants' records.
var RetainedOnRetire = map[string]bool{
	"aws:kms/key:Key":                                                      true,
	"aws:kms/alias:Alias":                                                  true,
	"aws:backup/vault:Vault":                                               true,
	"aws:backup/vaultPolicy:VaultPolicy":                                   true,
	"aws:backup/vaultLockConfiguration:VaultLockConfiguration":             true,
	"aws:s3/bucketV2:BucketV2":                                             true,
	"aws:s3/bucketPolicy:BucketPolicy":                                     true,
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":               true,
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":               true,
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                         true,
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": true,
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": true,
	"aws:secretsmanager/secret:Secret": true,
	"aws:dynamodb/table:Table":         true,
}

// retire is the transformation a stack with dataProtection.retire applies to
// everything it holds: nothing is protected any more, so that pulumi destroy
// runs; RetainedOnRetire types stay in the account; the databases are
// deleted, leaving their final snapshots and automated backups (the
// protected preset keeps both), so no instance is left running unmanaged;
// the load balancer's deletion protection is lifted, and image repositories
// may go with their images (delivery builds them again from git).
func retire(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
	opts := append(args.Opts, pulumi.Protect(false))
	switch props := args.Props.(type) {
	case *rds.InstanceArgs:
		props.DeletionProtection = pulumi.Bool(false)
		opts = append(opts, pulumi.RetainOnDelete(false))
	case *lb.LoadBalancerArgs:
		props.EnableDeletionProtection = pulumi.Bool(false)
	case *ecr.RepositoryArgs:
		props.ForceDelete = pulumi.Bool(true)
	}
	if RetainedOnRetire[args.Type] {
		opts = append(opts, pulumi.RetainOnDelete(true))
	}
	return &pulumi.ResourceTransformationResult{Props: args.Props, Opts: opts}
}
