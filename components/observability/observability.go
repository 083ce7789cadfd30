// Package observability owns how an environment tells people it is in
// trouble: the alert topic and its subscriptions, alarms on every service
// and data store, a composite alarm per service, and a dashboard generated
// from the same lists.
package observability

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// Service is a long-running service to watch.
type Service struct {
	Name                 string
	Routed               bool
	TargetGroupArnSuffix pulumi.StringInput // routed services only
}

// Database is a PostgreSQL instance to watch.
type Database struct {
	Identifier       string
	AllocatedStorage int // GiB
	Tags             map[string]string
}

// ObservabilityArgs configures Observability.
type ObservabilityArgs struct {
	Project     string
	Environment string
	Region      string
	KeyArn      pulumi.StringInput
	Emails      []string
	Alarms      config.Alarms

	ClusterName           pulumi.StringInput
	LoadBalancerArnSuffix pulumi.StringInput
	Services              []Service
	Databases             []Database
	CacheNodes            []string
	// ServerlessCache is the stack's serverless cache; nil with nodes.
	ServerlessCache *ServerlessCache
	// Onboarding is the run-time onboarding API's worker and dead-letter
	// queue; nil without the API.
	Onboarding *Onboarding
}

// ServerlessCache names a serverless cache and the usage limits its alarms
// measure against.
type ServerlessCache struct {
	Name             string
	MaxDataStorageGB int
	MaxECPUPerSecond int
}

// Onboarding names what the onboarding alarms watch.
type Onboarding struct {
	WorkerFunctionName  pulumi.StringInput
	DeadLetterQueueName pulumi.StringInput
}

// Observability is the environment's alerting and dashboard.
type Observability struct {
	pulumi.ResourceState

	TopicArn      pulumi.StringOutput `pulumi:"topicArn"`
	DashboardName pulumi.StringOutput `pulumi:"dashboardName"`

	args    *ObservabilityArgs
	prefix  string
	account string
}

// NewObservability creates the topic, the alarms and the dashboard.
func NewObservability(ctx *pulumi.Context, name string, args *ObservabilityArgs, opts ...pulumi.ResourceOption) (*Observability, error) {
	if args == nil {
		return nil, fmt.Errorf("observability %s: args are required", name)
	}
	o := &Observability{args: args, prefix: args.Project + "-" + args.Environment}
	if err := ctx.RegisterComponentResource("saas:observability:Observability", name, o, opts...); err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(o))
	if err != nil {
		return nil, fmt.Errorf("observability %s: reading the account id: %w", name, err)
	}
	o.account = caller.AccountId
	topic, err := o.topic(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("observability %s: topic: %w", name, err)
	}
	o.TopicArn = topic.Arn

	for _, s := range args.Services {
		if err := o.serviceAlarms(ctx, s); err != nil {
			return nil, fmt.Errorf("observability %s: service %s: %w", name, s.Name, err)
		}
	}
	for _, db := range args.Databases {
		if err := o.databaseAlarms(ctx, db); err != nil {
			return nil, fmt.Errorf("observability %s: database %s: %w", name, db.Identifier, err)
		}
	}
	for _, node := range args.CacheNodes {
		if err := o.cacheAlarms(ctx, node); err != nil {
			return nil, fmt.Errorf("observability %s: cache node %s: %w", name, node, err)
		}
	}

	if args.ServerlessCache != nil {
		if err := o.serverlessCacheAlarms(ctx, *args.ServerlessCache); err != nil {
			return nil, fmt.Errorf("observability %s: serverless cache %s: %w", name, args.ServerlessCache.Name, err)
		}
	}

	if args.Onboarding != nil {
		if err := o.onboardingAlarms(ctx, *args.Onboarding); err != nil {
			return nil, fmt.Errorf("observability %s: onboarding: %w", name, err)
		}
	}

	dashboard, err := o.dashboard(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("observability %s: dashboard: %w", name, err)
	}
	o.DashboardName = dashboard.DashboardName
	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{"topicArn": o.TopicArn, "dashboardName": o.DashboardName}); err != nil {
		return nil, err
	}
	return o, nil
}

// topic is the one place alarms send to: encrypted with the environment's
// key, published to only by this account's CloudWatch alarms, delivered
// to the alert emails (each address confirms its subscription).
func (o *Observability) topic(ctx *pulumi.Context, name string) (*sns.Topic, error) {
	topic, err := sns.NewTopic(ctx, name+"-alerts", &sns.TopicArgs{
		DisplayName:    pulumi.String("Alerts " + o.prefix),
		KmsMasterKeyId: o.args.KeyArn,
	}, pulumi.Parent(o))
	if err != nil {
		return nil, err
	}
	if _, err := sns.NewTopicPolicy(ctx, name+"-alerts", &sns.TopicPolicyArgs{
		Arn: topic.Arn,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			return awspolicy.New(awspolicy.Statement{
				Sid: "AlarmsPublish", Effect: "Allow",
				Principal: map[string][]string{"Service": {"cloudwatch.amazonaws.com"}},
				Action:    []string{"sns:Publish"},
				Resource:  []string{v[0].(string)},
				Condition: awspolicy.Condition{"StringEquals": {"aws:SourceAccount": {o.account}}},
			})
		}, topic.Arn),
	}, pulumi.Parent(o)); err != nil {
		return nil, err
	}
	for i, email := range o.args.Emails {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-alerts-%d", name, i), &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(email),
		}, pulumi.Parent(o)); err != nil {
			return nil, err
		}
	}
	return topic, nil
}

// threshold is one metric alarm.
type threshold struct {
	name        string // unique suffix: <prefix>-<subject>-<name>
	subject     string
	description string
	namespace   string
	metric      string
	statistic   string // or extended, e.g. p95
	comparison  string
	value       float64
	dimensions  pulumi.StringMap
	missing     string
	tags        map[string]string
}

// actions returns the alarm and recovery actions: the topic when the
// preset notifies (prod always does), none otherwise.
func (o *Observability) actions() pulumi.Array {
	if !o.args.Alarms.Notify {
		return nil
	}
	return pulumi.Array{o.TopicArn}
}

func (o *Observability) alarmName(subject, name string) string {
	return fmt.Sprintf("%s-%s-%s", o.prefix, subject, name)
}

func (o *Observability) alarm(ctx *pulumi.Context, t threshold) (*cloudwatch.MetricAlarm, string, error) {
	a := o.args.Alarms
	alarmName := o.alarmName(t.subject, t.name)
	args := &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(alarmName),
		AlarmDescription:   pulumi.String(t.description),
		Namespace:          pulumi.String(t.namespace),
		MetricName:         pulumi.String(t.metric),
		Dimensions:         t.dimensions,
		Period:             pulumi.Int(a.PeriodSeconds),
		EvaluationPeriods:  pulumi.Int(a.EvaluationPeriods),
		ComparisonOperator: pulumi.String(t.comparison),
		Threshold:          pulumi.Float64(t.value),
		TreatMissingData:   pulumi.String(t.missing),
		AlarmActions:       o.actions(),
		OkActions:          o.actions(),
		Tags:               pulumi.ToStringMap(t.tags),
	}
	if strings.HasPrefix(t.statistic, "p") {
		args.ExtendedStatistic = pulumi.String(t.statistic)
	} else {
		args.Statistic = pulumi.String(t.statistic)
	}
	alarm, err := cloudwatch.NewMetricAlarm(ctx, alarmName, args, pulumi.Parent(o))
	return alarm, alarmName, err
}

// serviceAlarms watches CPU, memory and running tasks of a service, and its
// errors and latency behind the load balancer; a composite alarm per
// service says "this service is unwell" once, on alarm and on recovery.
func (o *Observability) serviceAlarms(ctx *pulumi.Context, s Service) error {
	a := o.args.Alarms
	ecsDims := pulumi.StringMap{"ClusterName": o.args.ClusterName, "ServiceName": pulumi.String(s.Name)}
	checks := []threshold{
		{name: "cpu", description: fmt.Sprintf("%s CPU above %g %%", s.Name, a.CPUPercent),
			namespace: "AWS/ECS", metric: "CPUUtilization", statistic: "Average", value: a.CPUPercent},
		{name: "memory", description: fmt.Sprintf("%s memory above %g %%", s.Name, a.MemoryPercent),
			namespace: "AWS/ECS", metric: "MemoryUtilization", statistic: "Average", value: a.MemoryPercent},
	}
	for i := range checks {
		checks[i].dimensions, checks[i].comparison, checks[i].missing = ecsDims, "GreaterThanThreshold", "missing"
	}
	if s.Routed {
		albDims := pulumi.StringMap{"LoadBalancer": o.args.LoadBalancerArnSuffix, "TargetGroup": s.TargetGroupArnSuffix}
		checks = append(checks,
			threshold{name: "5xx", description: fmt.Sprintf("%s answers more than %g 5xx per period", s.Name, a.Target5xxCount),
				namespace: "AWS/ApplicationELB", metric: "HTTPCode_Target_5XX_Count", statistic: "Sum",
				comparison: "GreaterThanThreshold", value: a.Target5xxCount, dimensions: albDims, missing: "notBreaching"},
			threshold{name: "latency", description: fmt.Sprintf("%s p95 response time above %g s", s.Name, a.LatencyP95Seconds),
				namespace: "AWS/ApplicationELB", metric: "TargetResponseTime", statistic: "p95",
				comparison: "GreaterThanThreshold", value: a.LatencyP95Seconds, dimensions: albDims, missing: "notBreaching"},
		)
	}
	var rule []string
	var members []pulumi.Resource
	for _, c := range checks {
		c.subject = s.Name
		alarm, name, err := o.alarm(ctx, c)
		if err != nil {
			return err
		}
		rule = append(rule, fmt.Sprintf("ALARM(%q)", name))
		members = append(members, alarm)
	}
	if err := o.tasksBelowDesired(ctx, s); err != nil {
		return err
	}
	if !o.args.Alarms.Composite {
		return nil
	}
	composite := o.alarmName(s.Name, "unhealthy")
	_, err := cloudwatch.NewCompositeAlarm(ctx, composite, &cloudwatch.CompositeAlarmArgs{
		AlarmName:        pulumi.String(composite),
		AlarmDescription: pulumi.String(s.Name + " is unhealthy: CPU, memory, errors or latency"),
		AlarmRule:        pulumi.String(strings.Join(rule, " OR ")),
		AlarmActions:     pulumi.StringArray{o.TopicArn},
		OkActions:        pulumi.StringArray{o.TopicArn},
		ActionsEnabled:   pulumi.Bool(o.args.Alarms.Notify),
		// The rule names its alarms only as text: CloudWatch refuses a rule
		// whose alarms do not exist yet, and deleting an alarm a rule uses.
	}, pulumi.Parent(o), pulumi.DependsOn(members))
	return err
}

// tasksBelowDesired compares Container Insights' running and desired task
// counts (no data without Container Insights, which the dev preset leaves
// off: the alarm then stays quiet).
func (o *Observability) tasksBelowDesired(ctx *pulumi.Context, s Service) error {
	a := o.args.Alarms
	name := o.alarmName(s.Name, "tasks")
	metric := func(id, metricName string) cloudwatch.MetricAlarmMetricQueryArgs {
		return cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String(id),
			Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
				Namespace: pulumi.String("ECS/ContainerInsights"), MetricName: pulumi.String(metricName),
				Dimensions: pulumi.StringMap{"ClusterName": o.args.ClusterName, "ServiceName": pulumi.String(s.Name)},
				Period:     pulumi.Int(a.PeriodSeconds), Stat: pulumi.String("Average"),
			},
		}
	}
	_, err := cloudwatch.NewMetricAlarm(ctx, name, &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(name),
		AlarmDescription:   pulumi.String(s.Name + " runs fewer tasks than desired"),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		Threshold:          pulumi.Float64(0),
		EvaluationPeriods:  pulumi.Int(a.EvaluationPeriods),
		TreatMissingData:   pulumi.String("missing"),
		MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
			metric("running", "RunningTaskCount"),
			metric("desired", "DesiredTaskCount"),
			cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String("missing"), Expression: pulumi.String("desired - running"),
				Label: pulumi.String("tasks missing"), ReturnData: pulumi.Bool(true),
			},
		},
		AlarmActions: o.actions(),
		OkActions:    o.actions(),
	}, pulumi.Parent(o))
	return err
}

// databaseAlarms watch CPU, free storage and connections of an instance.
// Multi-AZ standbys are synchronous and there are no read replicas, so
// there is no replica lag to watch.
func (o *Observability) databaseAlarms(ctx *pulumi.Context, db Database) error {
	a := o.args.Alarms
	dims := pulumi.StringMap{"DBInstanceIdentifier": pulumi.String(db.Identifier)}
	freeBytes := float64(db.AllocatedStorage) * 1024 * 1024 * 1024 * a.DBFreeStoragePct / 100
	subject := config.DatabaseAlarmPrefix + tenantid.SharedInstance
	if db.Identifier != o.prefix {
		subject = config.DatabaseAlarmPrefix + strings.TrimPrefix(db.Identifier, o.prefix+"-")
	}
	for _, t := range []threshold{
		{name: "cpu", description: fmt.Sprintf("%s CPU above %g %%", db.Identifier, a.DBCPUPercent),
			metric: "CPUUtilization", statistic: "Average", comparison: "GreaterThanThreshold", value: a.DBCPUPercent},
		{name: "free-storage", description: fmt.Sprintf("%s has less than %g %% of its storage free", db.Identifier, a.DBFreeStoragePct),
			metric: "FreeStorageSpace", statistic: "Minimum", comparison: "LessThanThreshold", value: freeBytes},
		{name: "connections", description: fmt.Sprintf("%s has more than %g connections", db.Identifier, a.DBConnections),
			metric: "DatabaseConnections", statistic: "Maximum", comparison: "GreaterThanThreshold", value: a.DBConnections},
	} {
		t.subject, t.namespace, t.dimensions, t.missing, t.tags = subject, "AWS/RDS", dims, "missing", db.Tags
		if _, _, err := o.alarm(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// cacheAlarms watch each Redis node's engine CPU, memory and evictions.
func (o *Observability) cacheAlarms(ctx *pulumi.Context, node string) error {
	a := o.args.Alarms
	dims := pulumi.StringMap{"CacheClusterId": pulumi.String(node)}
	subject := strings.TrimPrefix(node, o.prefix+"-")
	for _, t := range []threshold{
		{name: "cpu", description: fmt.Sprintf("Redis %s engine CPU above %g %%", node, a.CacheCPUPercent),
			metric: "EngineCPUUtilization", statistic: "Average", value: a.CacheCPUPercent},
		{name: "memory", description: fmt.Sprintf("Redis %s memory above %g %%", node, a.CacheMemoryPct),
			metric: "DatabaseMemoryUsagePercentage", statistic: "Average", value: a.CacheMemoryPct},
		{name: "evictions", description: fmt.Sprintf("Redis %s evicts more than %g keys per period", node, a.CacheEvictions),
			metric: "Evictions", statistic: "Sum", value: a.CacheEvictions},
	} {
		t.subject = config.CacheAlarmPrefix + subject
		t.namespace, t.dimensions, t.comparison, t.missing = "AWS/ElastiCache", dims, "GreaterThanThreshold", "missing"
		if _, _, err := o.alarm(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// ServerlessCacheDimension is the dimension ElastiCache Serverless
// publishes its metrics under, the cache's name: clusterId, not the nodes'
// CacheClusterId (AWS's serverless metrics documentation; a CacheClusterId
// alarm on a serverless cache never receives data).
const ServerlessCacheDimension = "clusterId"

// serverlessCacheAlarms watch a serverless cache, which has no nodes, no
// engine CPU and no memory percentage: what it has are its usage limits.
// The cache alarms' thresholds apply to those: ECPUs at cacheCpuPercent of
// the ECPU/s limit, data at cacheMemoryPercent of the storage limit (past
// either limit ElastiCache throttles or evicts instead of growing), and
// evictions as for nodes; any throttled command says a limit was reached.
func (o *Observability) serverlessCacheAlarms(ctx *pulumi.Context, c ServerlessCache) error {
	a := o.args.Alarms
	dims := pulumi.StringMap{ServerlessCacheDimension: pulumi.String(c.Name)}
	ecpus := a.CacheCPUPercent / 100 * float64(c.MaxECPUPerSecond) * float64(a.PeriodSeconds)
	bytes := a.CacheMemoryPct / 100 * float64(c.MaxDataStorageGB) * 1e9
	for _, t := range []threshold{
		{name: "ecpu", description: fmt.Sprintf("Valkey %s uses more than %g %% of its %d ECPU/s limit", c.Name, a.CacheCPUPercent, c.MaxECPUPerSecond),
			metric: "ElastiCacheProcessingUnits", statistic: "Sum", value: ecpus, missing: "notBreaching"},
		{name: "storage", description: fmt.Sprintf("Valkey %s holds more than %g %% of its %d GB limit", c.Name, a.CacheMemoryPct, c.MaxDataStorageGB),
			metric: "BytesUsedForCache", statistic: "Maximum", value: bytes, missing: "missing"},
		{name: "evictions", description: fmt.Sprintf("Valkey %s evicts more than %g keys per period", c.Name, a.CacheEvictions),
			metric: "Evictions", statistic: "Sum", value: a.CacheEvictions, missing: "notBreaching"},
		{name: "throttled", description: fmt.Sprintf("Valkey %s throttles commands: a usage limit is reached", c.Name),
			metric: "ThrottledCmds", statistic: "Sum", value: 0, missing: "notBreaching"},
	} {
		t.subject = config.CacheAlarmPrefix + "serverless"
		t.namespace, t.dimensions, t.comparison = "AWS/ElastiCache", dims, "GreaterThanThreshold"
		if _, _, err := o.alarm(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// onboardingAlarms tell when run-time provisioning fails: any failed
// attempt of the worker (it retries, so one is a warning), and any request
// in the dead-letter queue (it gave up: the tenant is marked failed).
func (o *Observability) onboardingAlarms(ctx *pulumi.Context, on Onboarding) error {
	for _, t := range []threshold{
		{name: "failures", description: "The onboarding worker failed to provision a tenant (it retries; see its log for lastError)",
			namespace: "AWS/Lambda", metric: "Errors", statistic: "Sum",
			dimensions: pulumi.StringMap{"FunctionName": on.WorkerFunctionName}},
		{name: "dead-letters", description: "Onboarding requests gave up and wait in the dead-letter queue: the tenants are marked failed",
			namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible", statistic: "Maximum",
			dimensions: pulumi.StringMap{"QueueName": on.DeadLetterQueueName}},
	} {
		t.subject, t.comparison, t.value, t.missing = "onboarding", "GreaterThanThreshold", 0, "notBreaching"
		if _, _, err := o.alarm(ctx, t); err != nil {
			return err
		}
	}
	return nil
}
