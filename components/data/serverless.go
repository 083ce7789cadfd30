package data

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awsname"
)

// ValkeyEngine is the engine of a serverless cache, its user and its user
// group: ElastiCache Serverless bills Valkey a third less than Redis OSS,
// and meters it for 100 MB at least instead of 1 GB.
const ValkeyEngine = "valkey"

// DefaultUserName is the user a client that sends AUTH <password> (no user
// name) authenticates as: a user group must hold a user of this name, and
// ours takes the stack's AUTH token as its password.
const DefaultUserName = "default"

// CacheAccessString is what the default user may do: every key and pub/sub
// channel, every command. It is no more than the AUTH token grants on a
// replication group, which is what an application expects of the same
// client configuration. -@dangerous is not taken off: that category holds
// INFO, CLUSTER and CLIENT, which cluster clients send on every connection
// (ioredis' ready check, go-redis' CLUSTER SLOTS/SHARDS and CLIENT
// SETINFO), and the administrative commands in it (CONFIG, DEBUG,
// SHUTDOWN, SAVE, REPLICAOF, ...) are ones ElastiCache already refuses.
const CacheAccessString = "on ~* &* +@all"

// maxCacheUserID bounds the ids of the default user and its group:
// ElastiCache's limit on a cache's own id (40), which the stack's
// identifier, and so these, are derived from.
const maxCacheUserID = 40

// CacheUserID is the id of the stack's default user (and of its group):
// <identifier>-default. It cannot be "default", AWS's own user.
func CacheUserID(identifier string) string { return cacheID(identifier, DefaultUserName) }

// ServerlessCacheName is the serverless cache's name: <identifier>-valkey,
// not the replication group's id, so that switching modes (which creates
// the new cache before the old one is deleted) never meets the old name.
func ServerlessCacheName(identifier string) string { return cacheID(identifier, ValkeyEngine) }

// cacheID is <identifier>-<suffix>, shortened when longer than ElastiCache
// allows.
func cacheID(identifier, suffix string) string {
	return awsname.Suffixed(identifier, suffix, maxCacheUserID)
}

// newServerlessCache creates the serverless Valkey cache: in the cache's
// subnets and security group, encrypted at rest with the stack's key and in
// transit (always, for serverless), capped by the usage limits, with a
// daily snapshot, and reached only by the default user of its user group,
// whose password is the stack's AUTH token. It returns the address clients
// connect to.
func newServerlessCache(ctx *pulumi.Context, name string, args cacheArgs, token pulumi.StringInput, parent pulumi.Resource) (pulumi.StringOutput, error) {
	opts := pulumi.Parent(parent)
	c := args.settings
	var none pulumi.StringOutput
	id := CacheUserID(args.replicationGroupID)

	// The user, its group and the cache have fixed ids: a replacement can
	// only delete first (platform.DeleteFirst); none of them holds data
	// that a cache replacement would not empty anyway.
	user, err := elasticache.NewUser(ctx, name+"-default", &elasticache.UserArgs{
		UserId:       pulumi.String(id),
		UserName:     pulumi.String(DefaultUserName),
		Engine:       pulumi.String(ValkeyEngine),
		AccessString: pulumi.String(CacheAccessString),
		AuthenticationMode: &elasticache.UserAuthenticationModeArgs{
			Type:      pulumi.String("password"),
			Passwords: pulumi.StringArray{token},
		},
	}, opts)
	if err != nil {
		return none, fmt.Errorf("cache user: %w", err)
	}
	group, err := elasticache.NewUserGroup(ctx, name, &elasticache.UserGroupArgs{
		UserGroupId: pulumi.String(id),
		Engine:      pulumi.String(ValkeyEngine),
		UserIds:     pulumi.StringArray{user.UserId},
	}, opts)
	if err != nil {
		return none, fmt.Errorf("cache user group: %w", err)
	}

	cache, err := elasticache.NewServerlessCache(ctx, name, &elasticache.ServerlessCacheArgs{
		Name:               pulumi.String(ServerlessCacheName(args.replicationGroupID)),
		Description:        pulumi.String("Valkey of " + args.replicationGroupID),
		Engine:             pulumi.String(ValkeyEngine),
		MajorEngineVersion: pulumi.String(c.Serverless.EngineVersion),
		KmsKeyId:           args.keyArn,
		SubnetIds:          args.subnets,
		SecurityGroupIds:   pulumi.StringArray{args.securityGroup},
		UserGroupId:        group.UserGroupId,
		// A runaway client cannot make the cache grow, or bill, past these.
		CacheUsageLimits: &elasticache.ServerlessCacheCacheUsageLimitsArgs{
			DataStorage: &elasticache.ServerlessCacheCacheUsageLimitsDataStorageArgs{
				Maximum: pulumi.Int(c.Serverless.MaxDataStorageGB),
				Unit:    pulumi.String("GB"),
			},
			EcpuPerSeconds: elasticache.ServerlessCacheCacheUsageLimitsEcpuPerSecondArray{
				elasticache.ServerlessCacheCacheUsageLimitsEcpuPerSecondArgs{Maximum: pulumi.Int(c.Serverless.MaxECPUPerSecond)},
			},
		},
		// The same hour as the replication group's snapshot window.
		DailySnapshotTime:      pulumi.String(redisSnapshotWindow[:5]),
		SnapshotRetentionLimit: pulumi.Int(c.SnapshotRetentionDays),
	}, opts, pulumi.Protect(args.protect))
	if err != nil {
		return none, fmt.Errorf("serverless cache: %w", err)
	}
	// AWS answers with the cache's endpoint once it is created; an empty
	// list is a failure to report, not an address to guess.
	return cache.Endpoints.ApplyT(func(endpoints []elasticache.ServerlessCacheEndpoint) (string, error) {
		if len(endpoints) == 0 || endpoints[0].Address == "" {
			return "", fmt.Errorf("serverless cache %s reported no endpoint: check its status in the ElastiCache console", ServerlessCacheName(args.replicationGroupID))
		}
		return endpoints[0].Address, nil
	}).(pulumi.StringOutput), nil
}
