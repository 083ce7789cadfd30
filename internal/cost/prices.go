package cost

// The price table: every figure the estimate uses, and the lists of resource
// types that cost nothing or are priced by usage. It is the one file to edit
// when AWS changes a price, when a stack file moves to another region, or
// when the program starts creating a new resource type.
//
// Source: AWS on-demand list prices in USD, from the public pricing pages
// (aws.amazon.com/rds/postgresql/pricing, /elasticache/pricing,
// /ec2/pricing/on-demand, /ebs/pricing,
// /fargate/pricing, /vpc/pricing, /elasticloadbalancing/pricing,
// /privatelink/pricing, /kms/pricing, /secrets-manager/pricing,
// /cloudwatch/pricing, /waf/pricing, /route53/pricing,
// /systems-manager/pricing) and the public IPv4 charge announced for
// 2024-02-01. Compiled on 2026-11-23 without network access, from the list
// prices as last published to the author's knowledge: they are list prices
// to be verified (AWS Pricing Calculator, or `aws pricing get-products`)
// before a figure is quoted to anyone. No free tier, Savings Plan, reserved
// instance or enterprise discount is applied.

// PricesAsOf dates the table; the estimate reports it.
const PricesAsOf = "2026-11-23"

// HoursPerMonth is AWS's billing month: 365 days x 24 h / 12.
const HoursPerMonth = 730.0

// FargateSpotDiscount is what Fargate Spot is assumed to save over on-demand
// Fargate. Spot prices move with spare capacity; AWS advertises "up to 70 %"
// and 70 % is what ap-northeast-1 and us-east-1 have shown for long periods.
const FargateSpotDiscount = 0.70

// ValkeyDiscount is how much less an ElastiCache node costs running Valkey
// instead of Redis OSS (AWS list prices, node-based clusters).
const ValkeyDiscount = 0.20

// ServerlessCacheMinimumGB is the data storage every ElastiCache Serverless
// cache is billed for, however little it holds: 1 GB for Redis OSS, 100 MB
// for Valkey (AWS's pricing page and billing documentation, CachedData).
var ServerlessCacheMinimumGB = map[string]float64{"redis": 1, "valkey": 0.1}

// ScheduledTaskMinutes is how long one run of a scheduled task is assumed to
// last: nothing in the plan says, and Fargate bills per second (one-minute
// minimum). A job that runs longer costs proportionally more.
const ScheduledTaskMinutes = 5.0

// Region holds one region's prices. Hourly prices are per hour; the
// estimate multiplies them by HoursPerMonth.
type Region struct {
	// RDSInstanceHour is RDS for PostgreSQL, Single-AZ, by instance class.
	// A Multi-AZ instance (one standby) costs twice as much.
	RDSInstanceHour map[string]float64
	// RDSStorageGBMonth is by storage type, Single-AZ; Multi-AZ is twice.
	// gp3's baseline 3,000 IOPS and 125 MiB/s (12,000 and 500 from 400 GB)
	// are included; provisioned IOPS above the baseline are not priced.
	RDSStorageGBMonth map[string]float64
	// CacheNodeHour is ElastiCache for Redis OSS, node-based, by node type.
	CacheNodeHour map[string]float64
	// ServerlessCacheGBHour is ElastiCache Serverless data storage, by
	// engine (redis, valkey); every cache is metered for at least
	// ServerlessCacheMinimumGB. Empty where no price was compiled.
	ServerlessCacheGBHour map[string]float64
	// Fargate per vCPU-hour and per GB-hour, Linux, by CPU architecture as
	// the task definition's runtimePlatform names it.
	FargateVCPUHour map[string]float64
	FargateGBHour   map[string]float64

	// EC2InstanceHour is Linux on-demand, by instance type; EBSGBMonth by
	// volume type (gp3's baseline IOPS and throughput included).
	EC2InstanceHour map[string]float64
	EBSGBMonth      map[string]float64

	NATGatewayHour float64
	// PublicIPv4Hour is charged for every public IPv4 address, attached or
	// not: NAT gateways' Elastic IPs, internet-facing load balancer nodes.
	PublicIPv4Hour float64
	ALBHour        float64
	// ALBLCUHour is one Load Balancer Capacity Unit; the estimate assumes
	// one LCU around the clock, the floor of a lightly used load balancer.
	ALBLCUHour float64
	NLBHour    float64
	NLCUHour   float64
	// InterfaceEndpointAZHour is per interface endpoint per AZ (subnet).
	InterfaceEndpointAZHour float64

	KMSKeyMonth float64
	SecretMonth float64
	// AlarmMetricMonth is per metric a standard-resolution alarm evaluates;
	// an alarm on a metric-math expression pays for each metric in it.
	AlarmMetricMonth        float64
	HighResAlarmMetricMonth float64
	CompositeAlarmMonth     float64
	// DashboardMonth ignores the three dashboards each account gets free.
	DashboardMonth float64
	WAFWebACLMonth float64
	// WAFRuleMonth is per rule in a web ACL, an AWS managed rule group
	// counting as one rule (the free managed groups add no subscription).
	WAFRuleMonth float64
	// HostedZoneMonth is per Route 53 hosted zone (public or private, first
	// 25 zones); a Cloud Map private DNS namespace is one.
	HostedZoneMonth float64
	// SSMAdvancedParameterMonth; standard parameters are free.
	SSMAdvancedParameterMonth float64
}

// Architectures of a Fargate task definition's runtimePlatform.
const (
	archX86   = "X86_64"
	archARM64 = "ARM64"
)

// usEast1 is us-east-1's prices; us-east-2 and us-west-2 list the same
// figures for everything here.
var usEast1 = Region{
	RDSInstanceHour: map[string]float64{
		"db.t3.micro": 0.018, "db.t3.small": 0.036, "db.t3.medium": 0.072, "db.t3.large": 0.145,
		"db.t3.xlarge": 0.290, "db.t3.2xlarge": 0.580,
		"db.t4g.micro": 0.016, "db.t4g.small": 0.032, "db.t4g.medium": 0.065, "db.t4g.large": 0.129,
		"db.t4g.xlarge": 0.258, "db.t4g.2xlarge": 0.517,
		"db.m6g.large": 0.159, "db.m6g.xlarge": 0.318, "db.m6g.2xlarge": 0.636, "db.m6g.4xlarge": 1.272,
		"db.m7g.large": 0.168, "db.m7g.xlarge": 0.337, "db.m7g.2xlarge": 0.674, "db.m7g.4xlarge": 1.348,
		"db.m6i.large": 0.178, "db.m6i.xlarge": 0.356, "db.m6i.2xlarge": 0.712, "db.m6i.4xlarge": 1.424,
		"db.r6g.large": 0.225, "db.r6g.xlarge": 0.449, "db.r6g.2xlarge": 0.898, "db.r6g.4xlarge": 1.796,
		"db.r7g.large": 0.239, "db.r7g.xlarge": 0.478, "db.r7g.2xlarge": 0.956, "db.r7g.4xlarge": 1.913,
		"db.r6i.large": 0.250, "db.r6i.xlarge": 0.500, "db.r6i.2xlarge": 1.000, "db.r6i.4xlarge": 2.000,
	},
	RDSStorageGBMonth: map[string]float64{"gp3": 0.115, "gp2": 0.115},
	CacheNodeHour: map[string]float64{
		"cache.t3.micro": 0.017, "cache.t3.small": 0.034, "cache.t3.medium": 0.068,
		"cache.t4g.micro": 0.016, "cache.t4g.small": 0.032, "cache.t4g.medium": 0.065,
		"cache.m6g.large": 0.149, "cache.m6g.xlarge": 0.297, "cache.m6g.2xlarge": 0.594,
		"cache.m7g.large": 0.158, "cache.m7g.xlarge": 0.315, "cache.m7g.2xlarge": 0.630,
		"cache.r6g.large": 0.206, "cache.r6g.xlarge": 0.411, "cache.r6g.2xlarge": 0.821,
		"cache.r7g.large": 0.219, "cache.r7g.xlarge": 0.437, "cache.r7g.2xlarge": 0.873,
	},
	// ECPUs ($0.0034 a million for Redis OSS, $0.0023 for Valkey) are usage.
	ServerlessCacheGBHour: map[string]float64{"redis": 0.125, "valkey": 0.084},
	FargateVCPUHour:       map[string]float64{archX86: 0.04048, archARM64: 0.03238},
	FargateGBHour:         map[string]float64{archX86: 0.004445, archARM64: 0.00356},

	EC2InstanceHour: map[string]float64{
		"t4g.nano": 0.0042, "t4g.micro": 0.0084, "t4g.small": 0.0168, "t4g.medium": 0.0336,
		"t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208,
	},
	EBSGBMonth: map[string]float64{"gp3": 0.08, "gp2": 0.10},

	NATGatewayHour:          0.045,
	PublicIPv4Hour:          0.005,
	ALBHour:                 0.0225,
	ALBLCUHour:              0.008,
	NLBHour:                 0.0225,
	NLCUHour:                0.006,
	InterfaceEndpointAZHour: 0.01,

	KMSKeyMonth:               1.00,
	SecretMonth:               0.40,
	AlarmMetricMonth:          0.10,
	HighResAlarmMetricMonth:   0.30,
	CompositeAlarmMonth:       0.50,
	DashboardMonth:            3.00,
	WAFWebACLMonth:            5.00,
	WAFRuleMonth:              1.00,
	HostedZoneMonth:           0.50,
	SSMAdvancedParameterMonth: 0.05,
}

// Prices is the table by region. A region missing here is an error, not a
// guess: add it with its own figures.
var Prices = map[string]Region{
	"us-east-1": usEast1,
	"us-east-2": usEast1,
	"us-west-2": usEast1,
	"ap-northeast-1": {
		RDSInstanceHour: map[string]float64{
			"db.t3.micro": 0.028, "db.t3.small": 0.056, "db.t3.medium": 0.112, "db.t3.large": 0.224,
			"db.t3.xlarge": 0.448, "db.t3.2xlarge": 0.896,
			"db.t4g.micro": 0.025, "db.t4g.small": 0.050, "db.t4g.medium": 0.100, "db.t4g.large": 0.200,
			"db.t4g.xlarge": 0.400, "db.t4g.2xlarge": 0.800,
			"db.m6g.large": 0.207, "db.m6g.xlarge": 0.414, "db.m6g.2xlarge": 0.828, "db.m6g.4xlarge": 1.656,
			"db.m7g.large": 0.218, "db.m7g.xlarge": 0.437, "db.m7g.2xlarge": 0.874, "db.m7g.4xlarge": 1.748,
			"db.m6i.large": 0.232, "db.m6i.xlarge": 0.464, "db.m6i.2xlarge": 0.928, "db.m6i.4xlarge": 1.856,
			"db.r6g.large": 0.270, "db.r6g.xlarge": 0.540, "db.r6g.2xlarge": 1.080, "db.r6g.4xlarge": 2.160,
			"db.r7g.large": 0.287, "db.r7g.xlarge": 0.574, "db.r7g.2xlarge": 1.148, "db.r7g.4xlarge": 2.296,
			"db.r6i.large": 0.300, "db.r6i.xlarge": 0.600, "db.r6i.2xlarge": 1.200, "db.r6i.4xlarge": 2.400,
		},
		RDSStorageGBMonth: map[string]float64{"gp3": 0.138, "gp2": 0.138},
		CacheNodeHour: map[string]float64{
			"cache.t3.micro": 0.026, "cache.t3.small": 0.052, "cache.t3.medium": 0.104,
			"cache.t4g.micro": 0.024, "cache.t4g.small": 0.048, "cache.t4g.medium": 0.096,
			"cache.m6g.large": 0.198, "cache.m6g.xlarge": 0.396, "cache.m6g.2xlarge": 0.792,
			"cache.m7g.large": 0.210, "cache.m7g.xlarge": 0.420, "cache.m7g.2xlarge": 0.840,
			"cache.r6g.large": 0.274, "cache.r6g.xlarge": 0.548, "cache.r6g.2xlarge": 1.096,
			"cache.r7g.large": 0.291, "cache.r7g.xlarge": 0.582, "cache.r7g.2xlarge": 1.164,
		},
		// Valkey only: $0.101 a GB-hour (ECPUs, $0.00276 a million, are
		// usage), from AWS's own per-region table of ElastiCache Serverless
		// Valkey prices (aws-samples/amazon-elasticache-samples,
		// tools/serverless-cost-calculator/elasticache_serverless_pricing.py),
		// whose us-east-1 row matches the pricing page's $0.084 above.
		ServerlessCacheGBHour: map[string]float64{"valkey": 0.101},
		FargateVCPUHour:       map[string]float64{archX86: 0.05056, archARM64: 0.04045},
		FargateGBHour:         map[string]float64{archX86: 0.00553, archARM64: 0.00442},

		EC2InstanceHour: map[string]float64{
			"t4g.nano": 0.0054, "t4g.micro": 0.0108, "t4g.small": 0.0216, "t4g.medium": 0.0432,
			"t3.nano": 0.0068, "t3.micro": 0.0136, "t3.small": 0.0272,
		},
		EBSGBMonth: map[string]float64{"gp3": 0.096, "gp2": 0.12},

		NATGatewayHour:          0.062,
		PublicIPv4Hour:          0.005,
		ALBHour:                 0.0243,
		ALBLCUHour:              0.008,
		NLBHour:                 0.0243,
		NLCUHour:                0.006,
		InterfaceEndpointAZHour: 0.014,

		KMSKeyMonth:               1.00,
		SecretMonth:               0.40,
		AlarmMetricMonth:          0.10,
		HighResAlarmMetricMonth:   0.30,
		CompositeAlarmMonth:       0.50,
		DashboardMonth:            3.00,
		WAFWebACLMonth:            5.00,
		WAFRuleMonth:              1.00,
		HostedZoneMonth:           0.50,
		SSMAdvancedParameterMonth: 0.05,
	},
}

// Usage lists the types whose whole price depends on use (bytes stored or
// moved, requests, invocations): the estimate shows them at zero, with what
// they are charged for, so that a reader knows they are not free.
var Usage = map[string]string{
	"aws:s3/bucketV2:BucketV2":                         "S3 storage per GB-month, requests, data transfer out",
	"aws:s3/bucket:Bucket":                             "S3 storage per GB-month, requests, data transfer out",
	"aws:cloudwatch/logGroup:LogGroup":                 "CloudWatch Logs ingestion per GB and storage per GB-month",
	"aws:ec2/flowLog:FlowLog":                          "vended-log ingestion per GB into CloudWatch Logs or S3",
	"aws:ecr/repository:Repository":                    "ECR image storage per GB-month, data transfer out",
	"aws:lambda/function:Function":                     "Lambda requests and GB-seconds of duration",
	"aws:sns/topic:Topic":                              "SNS requests and deliveries (email, SMS, HTTPS)",
	"aws:sqs/queue:Queue":                              "SQS requests",
	"aws:dynamodb/table:Table":                         "DynamoDB on-demand reads and writes, storage per GB-month, point-in-time recovery per GB-month",
	"aws:lambda/functionUrl:FunctionUrl":               "the function's Lambda requests and duration",
	"aws:backup/vault:Vault":                           "AWS Backup storage per GB-month, restores, cross-region copies",
	"aws:backup/restoreTestingPlan:RestoreTestingPlan": "restore jobs and the resources they create while tested",
	"aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "replicated backup storage per GB-month and cross-region transfer",
	"aws:cloudfront/distribution:Distribution":                                        "CloudFront data transfer out and HTTPS requests",
	"aws:scheduler/schedule:Schedule":                                                 "EventBridge Scheduler invocations beyond the monthly free ones",
	"aws:route53/record:Record":                                                       "Route 53 queries (alias queries to AWS resources are free)",
	"aws:s3/bucketObjectv2:BucketObjectv2":                                            "S3 storage per GB-month",
	"aws:cloudfront/function:Function":                                                "CloudFront Functions invocations",
	"aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration":             "Amazon Inspector enhanced scans per image",
}

// Free lists the types that cost nothing themselves: configuration,
// identity, wiring. Their cost, if any, shows on the resource they shape
// (a task definition on its service, a rule on its web ACL).
var Free = map[string]bool{
	"aws:iam/role:Role":                                   true,
	"aws:iam/rolePolicy:RolePolicy":                       true,
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":   true,
	"aws:iam/policy:Policy":                               true,
	"aws:iam/instanceProfile:InstanceProfile":             true,
	"aws:iam/serviceLinkedRole:ServiceLinkedRole":         true,
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider": true,

	"aws:ec2/securityGroup:SecurityGroup":                       true,
	"aws:ec2/securityGroupRule:SecurityGroupRule":               true,
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": true,
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   true,
	"aws:ec2/vpc:Vpc":                                     true,
	"aws:ec2/subnet:Subnet":                               true,
	"aws:ec2/routeTable:RouteTable":                       true,
	"aws:ec2/route:Route":                                 true,
	"aws:ec2/routeTableAssociation:RouteTableAssociation": true,
	"aws:ec2/internetGateway:InternetGateway":             true,

	"aws:kms/alias:Alias":         true,
	"aws:kms/grant:Grant":         true,
	"aws:kms/keyPolicy:KeyPolicy": true,

	"aws:secretsmanager/secretVersion:SecretVersion":   true,
	"aws:secretsmanager/secretPolicy:SecretPolicy":     true,
	"aws:secretsmanager/secretRotation:SecretRotation": true,

	"aws:rds/parameterGroup:ParameterGroup":               true,
	"aws:rds/subnetGroup:SubnetGroup":                     true,
	"aws:rds/optionGroup:OptionGroup":                     true,
	"aws:rds/clusterParameterGroup:ClusterParameterGroup": true,

	"aws:elasticache/parameterGroup:ParameterGroup": true,
	"aws:elasticache/subnetGroup:SubnetGroup":       true,
	"aws:elasticache/user:User":                     true,
	"aws:elasticache/userGroup:UserGroup":           true,

	"aws:ecs/taskDefinition:TaskDefinition":                     true,
	"aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": true,
	"aws:ecr/lifecyclePolicy:LifecyclePolicy":                   true,
	"aws:ecr/repositoryPolicy:RepositoryPolicy":                 true,
	"aws:appautoscaling/target:Target":                          true,
	"aws:appautoscaling/policy:Policy":                          true,
	"aws:appautoscaling/scheduledAction:ScheduledAction":        true,
	"aws:scheduler/scheduleGroup:ScheduleGroup":                 true,
	"aws:servicediscovery/service:Service":                      true,

	"aws:lb/listener:Listener":                                        true,
	"aws:lb/listenerRule:ListenerRule":                                true,
	"aws:lb/targetGroup:TargetGroup":                                  true,
	"aws:lb/listenerCertificate:ListenerCertificate":                  true,
	"aws:wafv2/webAclAssociation:WebAclAssociation":                   true,
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": true,
	"aws:wafv2/ipSet:IpSet":                                           true,

	"aws:cloudwatch/eventRule:EventRule":                         true,
	"aws:cloudwatch/eventBus:EventBus":                           true,
	"aws:cloudwatch/logMetricFilter:LogMetricFilter":             true,
	"aws:cloudwatch/logResourcePolicy:LogResourcePolicy":         true,
	"aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": true,

	"aws:sns/topicPolicy:TopicPolicy":             true,
	"aws:sns/topicSubscription:TopicSubscription": true,
	"aws:lambda/permission:Permission":            true,
	// Its polling is free; the function it invokes is priced by use.
	"aws:lambda/eventSourceMapping:EventSourceMapping": true,
	"aws:dynamodb/tableItem:TableItem":                 true,

	"aws:backup/plan:Plan":                                       true,
	"aws:backup/regionSettings:RegionSettings":                   true,
	"aws:backup/selection:Selection":                             true,
	"aws:backup/vaultPolicy:VaultPolicy":                         true,
	"aws:backup/vaultLockConfiguration:VaultLockConfiguration":   true,
	"aws:backup/vaultNotifications:VaultNotifications":           true,
	"aws:backup/restoreTestingSelection:RestoreTestingSelection": true,

	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               true,
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       true,
	"aws:s3/bucketPolicy:BucketPolicy":                                                           true,
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     true,
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     true,
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": true,
	"aws:s3/bucketLoggingV2:BucketLoggingV2":                                                     true,
	"aws:s3/bucketNotification:BucketNotification":                                               true,
	"aws:s3/bucketAclV2:BucketAclV2":                                                             true,
	"aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2":                                 true,
	"aws:s3/bucketReplicationConfig:BucketReplicationConfig":                                     true,
	"aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2":                           true,

	// Public certificates are free; a private CA would not be.
	"aws:acm/certificate:Certificate":                            true,
	"aws:acm/certificateValidation:CertificateValidation":        true,
	"aws:cloudfront/originAccessControl:OriginAccessControl":     true,
	"aws:cloudfront/cachePolicy:CachePolicy":                     true,
	"aws:cloudfront/originRequestPolicy:OriginRequestPolicy":     true,
	"aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": true,

	"pulumi:pulumi:StackReference": true,
}

// freePrefixes are whole packages that create nothing billable: providers,
// random values kept in state, and this program's own components (their
// children carry the cost).
var freePrefixes = []string{"pulumi:providers:", "random:", "saas:"}
