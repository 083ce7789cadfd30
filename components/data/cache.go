package data

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
)

// Redis windows and port from the source architecture (UTC).
const (
	RedisPort              = 6379
	redisMaintenanceWindow = "sun:05:00-sun:06:00"
	redisSnapshotWindow    = "03:00-04:00"
)

type cacheArgs struct {
	replicationGroupID string // the cache's id, serverless or not
	settings           config.Cache
	subnetGroup        pulumi.StringInput
	// subnets are the subnet group's subnets, which a serverless cache
	// takes directly.
	subnets           pulumi.StringArrayInput
	securityGroup     pulumi.StringInput
	keyArn            pulumi.StringInput
	logGroupName      string
	logRetention      int
	secretName        string
	parameterPath     string
	protect           bool
	notificationTopic pulumi.StringInput // nil: no event notifications
}

type cacheOutputs struct {
	endpoint      pulumi.StringOutput
	authSecretArn pulumi.StringOutput
}

// newCache creates the stack's cache, a Redis replication group or a
// serverless Valkey cache: encrypted at rest with the key and in transit,
// AUTH required (the token is a Pulumi secret, handed to services through
// Secrets Manager), and publishes where it is.
func newCache(ctx *pulumi.Context, name string, args cacheArgs, parent pulumi.Resource) (cacheOutputs, error) {
	opts := pulumi.Parent(parent)
	var out cacheOutputs

	token, err := random.NewRandomPassword(ctx, name+"-auth", &random.RandomPasswordArgs{
		Length:  pulumi.Int(64),
		Special: pulumi.Bool(false), // AUTH tokens refuse @, " and /
	}, opts)
	if err != nil {
		return out, err
	}
	secret, err := secretsmanager.NewSecret(ctx, name+"-auth", &secretsmanager.SecretArgs{
		Name:                 pulumi.String(args.secretName),
		Description:          pulumi.String("Redis AUTH token of " + args.replicationGroupID),
		KmsKeyId:             args.keyArn,
		RecoveryWindowInDays: pulumi.Int(RecoveryWindowDays(args.protect)),
	}, opts)
	if err != nil {
		return out, err
	}
	if _, err := secretsmanager.NewSecretVersion(ctx, name+"-auth", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: token.Result,
	}, opts); err != nil {
		return out, err
	}

	if args.settings.IsServerless() {
		out.endpoint, err = newServerlessCache(ctx, name, args, token.Result, parent)
	} else {
		out.endpoint, err = newReplicationGroup(ctx, name, args, token.Result, parent)
	}
	if err != nil {
		return out, err
	}
	out.authSecretArn = secret.Arn
	if err := publishParameters(ctx, parent, name, args.parameterPath, "Redis of "+args.replicationGroupID, args.keyArn,
		map[string]pulumi.StringInput{
			"endpoint":        out.endpoint,
			"port":            pulumi.String(fmt.Sprint(RedisPort)),
			"auth-secret-arn": secret.Arn,
		}, nil); err != nil {
		return out, err
	}
	return out, nil
}

// newReplicationGroup creates the Redis OSS replication group, with the
// AUTH token, and its slow log in CloudWatch Logs. It returns the address
// clients connect to.
func newReplicationGroup(ctx *pulumi.Context, name string, args cacheArgs, token pulumi.StringInput, parent pulumi.Resource) (pulumi.StringOutput, error) {
	opts := pulumi.Parent(parent)
	c := args.settings
	var none pulumi.StringOutput

	clusterEnabled := "no"
	if c.ClusterMode {
		clusterEnabled = "yes"
	}
	family := "redis" + strings.Split(c.EngineVersion, ".")[0]
	// AWS's default groups carry the same cluster-enabled setting.
	var parameterGroup pulumi.StringInput = pulumi.String("default." + family)
	if c.ClusterMode {
		parameterGroup = pulumi.String("default." + family + ".cluster.on")
	}
	if c.ParameterGroup == config.ParameterGroupCustom {
		params, err := elasticache.NewParameterGroup(ctx, name, &elasticache.ParameterGroupArgs{
			Family:      pulumi.String(family),
			Description: pulumi.String("Redis for " + args.replicationGroupID + ": cluster mode " + clusterEnabled),
			Parameters: elasticache.ParameterGroupParameterArray{
				elasticache.ParameterGroupParameterArgs{Name: pulumi.String("cluster-enabled"), Value: pulumi.String(clusterEnabled)},
			},
			// ElastiCache refuses to change cluster-enabled on a group in
			// use: a new group (its name is generated, so it can exist next
			// to the old one) goes with the replaced replication group.
		}, opts, pulumi.ReplaceOnChanges([]string{"parameters"}))
		if err != nil {
			return none, err
		}
		parameterGroup = params.Name
	}

	slowLog, err := cloudwatch.NewLogGroup(ctx, name+"-slow-log", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.logGroupName),
		RetentionInDays: pulumi.Int(args.logRetention),
		KmsKeyId:        args.keyArn,
	}, opts)
	if err != nil {
		return none, err
	}

	failover := c.ReplicasPerShard > 0
	rg := &elasticache.ReplicationGroupArgs{
		ReplicationGroupId:       pulumi.String(args.replicationGroupID),
		Description:              pulumi.String("Redis of " + args.replicationGroupID),
		Engine:                   pulumi.String("redis"),
		EngineVersion:            pulumi.String(c.EngineVersion),
		NodeType:                 pulumi.String(c.NodeType),
		Port:                     pulumi.Int(RedisPort),
		ParameterGroupName:       parameterGroup,
		SubnetGroupName:          args.subnetGroup,
		SecurityGroupIds:         pulumi.StringArray{args.securityGroup},
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		KmsKeyId:                 args.keyArn,
		TransitEncryptionEnabled: pulumi.Bool(true),
		AuthToken:                token,
		AutomaticFailoverEnabled: pulumi.Bool(failover),
		MultiAzEnabled:           pulumi.Bool(failover),
		MaintenanceWindow:        pulumi.String(redisMaintenanceWindow),
		SnapshotWindow:           pulumi.String(redisSnapshotWindow),
		SnapshotRetentionLimit:   pulumi.Int(c.SnapshotRetentionDays),
		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		ApplyImmediately:         pulumi.Bool(!args.protect),
		LogDeliveryConfigurations: elasticache.ReplicationGroupLogDeliveryConfigurationArray{
			elasticache.ReplicationGroupLogDeliveryConfigurationArgs{
				Destination:     slowLog.Name,
				DestinationType: pulumi.String("cloudwatch-logs"),
				LogFormat:       pulumi.String("json"),
				LogType:         pulumi.String("slow-log"),
			},
		},
	}
	if c.ClusterMode {
		rg.ClusterMode = pulumi.String("enabled")
		rg.NumNodeGroups = pulumi.Int(c.Shards)
		rg.ReplicasPerNodeGroup = pulumi.Int(c.ReplicasPerShard)
	} else {
		rg.NumCacheClusters = pulumi.Int(1 + c.ReplicasPerShard)
	}
	if args.notificationTopic != nil {
		// Failovers, node replacements and maintenance reach people instead
		// of only the ElastiCache event log.
		rg.NotificationTopicArn = args.notificationTopic
	}
	if args.protect {
		suffix, err := random.NewRandomId(ctx, name+"-final-snapshot", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, opts)
		if err != nil {
			return none, err
		}
		rg.FinalSnapshotIdentifier = pulumi.Sprintf("%s-final-%s", args.replicationGroupID, suffix.Hex)
	}
	// The group's id is fixed, so a replacement (cluster mode switched, which
	// the transition guard lets through only when the stack file accepts it)
	// can only delete first.
	group, err := elasticache.NewReplicationGroup(ctx, name, rg, opts, pulumi.Protect(args.protect), pulumi.DeleteBeforeReplace(true))
	if err != nil {
		return none, fmt.Errorf("replication group: %w", err)
	}

	// Cluster mode is reached through the configuration endpoint, a single
	// primary through its primary endpoint.
	if c.ClusterMode {
		return group.ConfigurationEndpointAddress, nil
	}
	return group.PrimaryEndpointAddress, nil
}
