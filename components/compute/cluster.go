package compute

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// keepImages is how many images each repository keeps.
const keepImages = 30

// newRepository makes a service's image repository: scanned on push,
// encrypted with the environment's key, tags immutable (every build pushes
// a new tag, e.g. dev-<git sha>), the last 30 images kept.
func newRepository(ctx *pulumi.Context, c *Compute, name string, args *ComputeArgs) (*ecr.Repository, error) {
	repo, err := ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		Name:               pulumi.String(args.Project + "/" + args.Environment + "/" + name),
		ImageTagMutability: pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{
			ScanOnPush: pulumi.Bool(true),
		},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("KMS"), KmsKey: args.KeyArn},
		},
		ForceDelete: pulumi.Bool(!args.Protect),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	policy, _ := json.Marshal(map[string]any{"rules": []any{map[string]any{
		"rulePriority": 1,
		"description":  fmt.Sprintf("Keep the last %d images", keepImages),
		"selection":    map[string]any{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keepImages},
		"action":       map[string]any{"type": "expire"},
	}}})
	_, err = ecr.NewLifecyclePolicy(ctx, name, &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(string(policy)),
	}, pulumi.Parent(c))
	return repo, err
}

// newCluster makes the ECS cluster with Fargate and Fargate Spot, and
// execute-command sessions logged, encrypted, to their own log group.
func newCluster(ctx *pulumi.Context, c *Compute, name string, args *ComputeArgs) (*ecs.Cluster, *ecs.ClusterCapacityProviders, *cloudwatch.LogGroup, error) {
	execLogs, err := cloudwatch.NewLogGroup(ctx, name+"-exec", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.PathPrefix + "/ecs/exec"),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.KeyArn,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, nil, nil, err
	}
	insights := "disabled"
	if args.ContainerInsights {
		insights = "enabled"
	}
	cluster, err := ecs.NewCluster(ctx, name, &ecs.ClusterArgs{
		Settings: ecs.ClusterSettingArray{
			ecs.ClusterSettingArgs{Name: pulumi.String("containerInsights"), Value: pulumi.String(insights)},
		},
		Configuration: &ecs.ClusterConfigurationArgs{
			ExecuteCommandConfiguration: &ecs.ClusterConfigurationExecuteCommandConfigurationArgs{
				KmsKeyId: args.KeyArn,
				Logging:  pulumi.String("OVERRIDE"),
				LogConfiguration: &ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs{
					CloudWatchEncryptionEnabled: pulumi.Bool(true),
					CloudWatchLogGroupName:      execLogs.Name,
				},
			},
		},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, nil, nil, err
	}
	var defaults ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArray
	for _, s := range Strategy(args.DefaultCapacity, balancedBase) {
		defaults = append(defaults, ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs{
			CapacityProvider: pulumi.String(s.Provider), Base: pulumi.Int(s.Base), Weight: pulumi.Int(s.Weight),
		})
	}
	providers, err := ecs.NewClusterCapacityProviders(ctx, name, &ecs.ClusterCapacityProvidersArgs{
		ClusterName:                       cluster.Name,
		CapacityProviders:                 pulumi.ToStringArray([]string{Fargate, FargateSpot}),
		DefaultCapacityProviderStrategies: defaults,
	}, pulumi.Parent(c))
	return cluster, providers, execLogs, err
}
