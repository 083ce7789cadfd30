package compute

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/servicediscovery"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// Health checks from the source architecture.
const (
	healthInterval     = 30
	healthTimeout      = 5
	healthyThreshold   = 2
	unhealthyThreshold = 3
	healthRetries      = 3
	healthStartPeriod  = 60
	gracePeriod        = 60
)

// Autoscaling targets.
const (
	cpuTarget             = 70
	memoryTarget          = 80
	requestsPerTargetGoal = 1000 // requests per target per minute
)

// service runs a long-lived service: private subnets, no public IP, its
// capacity strategy from the first deployment, rollback on failure.
func (c *Compute) service(ctx *pulumi.Context, s config.Service, task *ecs.TaskDefinition, lbTarget *lb.TargetGroup,
	rule *lb.ListenerRule, registry *servicediscovery.Service, migrated pulumi.Resource) (*ecs.Service, error) {
	args := c.args
	group, err := c.securityGroup(s)
	if err != nil {
		return nil, err
	}
	var strategy ecs.ServiceCapacityProviderStrategyArray
	for _, share := range Strategy(s.Capacity, s.MinCount) {
		strategy = append(strategy, ecs.ServiceCapacityProviderStrategyArgs{
			CapacityProvider: pulumi.String(share.Provider), Base: pulumi.Int(share.Base), Weight: pulumi.Int(share.Weight),
		})
	}
	svcArgs := &ecs.ServiceArgs{
		Name:                       pulumi.String(s.Name),
		Cluster:                    c.Cluster.Arn,
		TaskDefinition:             task.Arn,
		DesiredCount:               pulumi.Int(s.DesiredCount),
		CapacityProviderStrategies: strategy,
		NetworkConfiguration: &ecs.ServiceNetworkConfigurationArgs{
			Subnets:        args.Network.PrivateSubnetIds,
			SecurityGroups: pulumi.StringArray{group},
			AssignPublicIp: pulumi.Bool(false),
		},
		DeploymentCircuitBreaker:        &ecs.ServiceDeploymentCircuitBreakerArgs{Enable: pulumi.Bool(true), Rollback: pulumi.Bool(true)},
		DeploymentMinimumHealthyPercent: pulumi.Int(100),
		DeploymentMaximumPercent:        pulumi.Int(200),
		EnableExecuteCommand:            pulumi.Bool(s.ExecuteCommand),
		WaitForSteadyState:              pulumi.Bool(args.WaitForSteadyState),
		EnableEcsManagedTags:            pulumi.Bool(true),
		PropagateTags:                   pulumi.String("SERVICE"),
	}
	if lbTarget != nil {
		svcArgs.LoadBalancers = ecs.ServiceLoadBalancerArray{ecs.ServiceLoadBalancerArgs{
			TargetGroupArn: lbTarget.Arn, ContainerName: pulumi.String(s.Name), ContainerPort: pulumi.Int(s.Port),
		}}
		svcArgs.HealthCheckGracePeriodSeconds = pulumi.Int(gracePeriod)
	}
	if registry != nil {
		svcArgs.ServiceRegistries = &ecs.ServiceServiceRegistriesArgs{RegistryArn: registry.Arn}
	}
	// Strategies need the cluster's providers, and a load-balanced service
	// needs its target group attached to the load balancer (listener and
	// rule), before the service exists.
	deps := append([]pulumi.Resource{c.capacityProviders}, c.lb.listeners...)
	if rule != nil {
		deps = append(deps, rule)
	}
	if migrated != nil {
		// Every tenant's schema is migrated before the new task rolls out.
		deps = append(deps, migrated)
	}
	// The service's name is fixed and unique in its cluster, so a
	// replacement can only delete first; the preview shows it as such.
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.DependsOn(deps), pulumi.DeleteBeforeReplace(true)}
	if s.Autoscaled() || args.Schedule.On() {
		// Application Auto Scaling owns the count: target tracking, and the
		// schedule's sleep and wake-up. An up at night leaves it at zero.
		opts = append(opts, pulumi.IgnoreChanges([]string{"desiredCount"}))
	}
	return ecs.NewService(ctx, s.Name, svcArgs, opts...)
}

// targetGroup and rule route the service's paths to its tasks.
func (c *Compute) targetGroup(ctx *pulumi.Context, s config.Service) (*lb.TargetGroup, error) {
	tgArgs := &lb.TargetGroupArgs{
		Port:       pulumi.Int(s.Port),
		Protocol:   pulumi.String("HTTP"),
		TargetType: pulumi.String("ip"),
		VpcId:      c.args.Network.VpcId,
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Path: pulumi.String(s.HealthCheckPath), Protocol: pulumi.String("HTTP"), Matcher: pulumi.String("200-399"),
			Interval: pulumi.Int(healthInterval), Timeout: pulumi.Int(healthTimeout),
			HealthyThreshold: pulumi.Int(healthyThreshold), UnhealthyThreshold: pulumi.Int(unhealthyThreshold),
		},
		DeregistrationDelay: pulumi.Int(s.DeregistrationDelay),
	}
	if s.WebSockets {
		tgArgs.Stickiness = &lb.TargetGroupStickinessArgs{
			Type: pulumi.String("lb_cookie"), Enabled: pulumi.Bool(true), CookieDuration: pulumi.Int(86400),
		}
	}
	// The logical name is the service name (at most 24 characters), so the
	// generated name fits the 32 characters AWS allows.
	return lb.NewTargetGroup(ctx, s.Name, tgArgs, pulumi.Parent(c))
}

// rule routes the service's hosts and paths to it: both must match when
// both are given.
func (c *Compute) rule(ctx *pulumi.Context, s config.Service, tg *lb.TargetGroup) (*lb.ListenerRule, error) {
	var conditions lb.ListenerRuleConditionArray
	if len(s.Hosts) > 0 {
		conditions = append(conditions, lb.ListenerRuleConditionArgs{
			HostHeader: &lb.ListenerRuleConditionHostHeaderArgs{Values: pulumi.ToStringArray(s.Hosts)},
		})
	}
	if len(s.Paths) > 0 {
		conditions = append(conditions, lb.ListenerRuleConditionArgs{
			PathPattern: &lb.ListenerRuleConditionPathPatternArgs{Values: pulumi.ToStringArray(s.Paths)},
		})
	}
	return lb.NewListenerRule(ctx, s.Name, &lb.ListenerRuleArgs{
		ListenerArn: c.lb.listener.Arn,
		Priority:    pulumi.Int(s.Priority),
		Actions:     lb.ListenerRuleActionArray{lb.ListenerRuleActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn}},
		Conditions:  conditions,
	}, pulumi.Parent(c))
}

// scalableTarget registers the service's task count with Application Auto
// Scaling, between minCount and maxCount (both the desired count for a
// service that does not autoscale but sleeps).
func (c *Compute) scalableTarget(ctx *pulumi.Context, s config.Service, svc *ecs.Service) (*appautoscaling.Target, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(c)}
	if c.args.Schedule.On() {
		// The schedule sets these at every sleep and wake-up: an up at
		// night must not wake the service, nor a refresh see drift. A
		// changed minCount or maxCount reaches the service through the
		// wake-up actions, at the next wake-up.
		opts = append(opts, pulumi.IgnoreChanges([]string{"minCapacity", "maxCapacity"}))
	}
	min, max := awakeCapacity(s)
	return appautoscaling.NewTarget(ctx, s.Name, &appautoscaling.TargetArgs{
		ServiceNamespace:  pulumi.String("ecs"),
		ScalableDimension: pulumi.String("ecs:service:DesiredCount"),
		ResourceId:        pulumi.Sprintf("service/%s/%s", c.Cluster.Name, svc.Name),
		MinCapacity:       pulumi.Int(min),
		MaxCapacity:       pulumi.Int(max),
	}, opts...)
}

// awakeCapacity is the task count range while the service is awake.
func awakeCapacity(s config.Service) (min, max int) {
	if s.Autoscaled() {
		return s.MinCount, s.MaxCount
	}
	return s.DesiredCount, s.DesiredCount
}

// autoscaling keeps CPU near 70 %, memory near 80 % and, for routed
// services, requests per target near the goal, between min and max.
func (c *Compute) autoscaling(ctx *pulumi.Context, s config.Service, target *appautoscaling.Target, tg *lb.TargetGroup) error {
	opts := pulumi.Parent(c)
	type metric struct {
		name, kind string
		target     float64
		label      pulumi.StringInput
	}
	metrics := []metric{
		{"cpu", "ECSServiceAverageCPUUtilization", cpuTarget, nil},
		{"memory", "ECSServiceAverageMemoryUtilization", memoryTarget, nil},
	}
	if tg != nil {
		metrics = append(metrics, metric{"requests", "ALBRequestCountPerTarget", requestsPerTargetGoal,
			pulumi.Sprintf("%s/%s", c.lb.alb.ArnSuffix, tg.ArnSuffix)})
	}
	for _, m := range metrics {
		if _, err := appautoscaling.NewPolicy(ctx, s.Name+"-"+m.name, &appautoscaling.PolicyArgs{
			PolicyType:        pulumi.String("TargetTrackingScaling"),
			ServiceNamespace:  target.ServiceNamespace,
			ScalableDimension: target.ScalableDimension,
			ResourceId:        target.ResourceId,
			TargetTrackingScalingPolicyConfiguration: &appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs{
				TargetValue: pulumi.Float64(m.target),
				PredefinedMetricSpecification: &appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs{
					PredefinedMetricType: pulumi.String(m.kind),
					ResourceLabel:        m.label,
				},
				ScaleInCooldown:  pulumi.Int(300),
				ScaleOutCooldown: pulumi.Int(60),
			},
		}, opts); err != nil {
			return err
		}
	}
	return nil
}

// registry makes an internal service reachable by name inside the VPC:
// <service>.<namespace> resolves to its tasks.
func (c *Compute) registry(ctx *pulumi.Context, s config.Service) (*servicediscovery.Service, error) {
	return servicediscovery.NewService(ctx, s.Name, &servicediscovery.ServiceArgs{
		Name: pulumi.String(s.Name),
		DnsConfig: &servicediscovery.ServiceDnsConfigArgs{
			NamespaceId:   c.namespace.ID(),
			RoutingPolicy: pulumi.String("MULTIVALUE"),
			DnsRecords: servicediscovery.ServiceDnsConfigDnsRecordArray{
				servicediscovery.ServiceDnsConfigDnsRecordArgs{Ttl: pulumi.Int(10), Type: pulumi.String("A")},
			},
		},
		HealthCheckCustomConfig: &servicediscovery.ServiceHealthCheckCustomConfigArgs{FailureThreshold: pulumi.Int(1)},
	}, pulumi.Parent(c))
}

// schedule runs a task on an EventBridge schedule, with a role that may run
// only this task definition on this cluster.
func (c *Compute) schedule(ctx *pulumi.Context, s config.Service, task *ecs.TaskDefinition, execRole, taskRole *iam.Role, migrated pulumi.Resource) error {
	opts := pulumi.Parent(c)
	group, err := c.securityGroup(s)
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, s.Name+"-schedule", &iam.RoleArgs{
		Description:      pulumi.String("Runs the " + s.Name + " task on its schedule"),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("events.amazonaws.com", c.account).String()),
	}, opts)
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, s.Name+"-schedule", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			family := fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:*", c.args.Region, c.account, v[0].(string))
			return awspolicy.New(
				awspolicy.Statement{Sid: "RunThisTask", Effect: "Allow", Action: []string{"ecs:RunTask"}, Resource: []string{family},
					Condition: awspolicy.Condition{"ArnEquals": {"ecs:cluster": {v[1].(string)}}}},
				awspolicy.Statement{Sid: "PassItsRoles", Effect: "Allow", Action: []string{"iam:PassRole"},
					Resource:  []string{v[2].(string), v[3].(string)},
					Condition: awspolicy.Condition{"StringEquals": {"iam:PassedToService": {"ecs-tasks.amazonaws.com"}}}},
			)
		}, task.Family, c.Cluster.Arn, execRole.Arn, taskRole.Arn),
	}, opts); err != nil {
		return err
	}
	ruleOpts := []pulumi.ResourceOption{opts}
	if c.args.Schedule.On() {
		// The stack's schedule disables and enables the rule: its state
		// is the schedule's to set, never a difference to undo.
		ruleOpts = append(ruleOpts, pulumi.IgnoreChanges([]string{"state", "isEnabled"}))
	}
	rule, err := cloudwatch.NewEventRule(ctx, s.Name, &cloudwatch.EventRuleArgs{
		Description:        pulumi.String("Runs " + s.Name + " in " + c.args.Environment),
		ScheduleExpression: pulumi.String(s.Schedule),
		// Said, so that a stack that stops sleeping enables a rule its
		// schedule left disabled.
		State: pulumi.String("ENABLED"),
	}, ruleOpts...)
	if err != nil {
		return err
	}
	if err := c.taskSleep(ctx, s, rule); err != nil {
		return err
	}
	deps := []pulumi.Resource{c.capacityProviders}
	if migrated != nil {
		// The schedule runs the new task only once every tenant is migrated.
		deps = append(deps, migrated)
	}
	var strategy cloudwatch.EventTargetEcsTargetCapacityProviderStrategyArray
	for _, share := range Strategy(s.Capacity, s.DesiredCount) {
		strategy = append(strategy, cloudwatch.EventTargetEcsTargetCapacityProviderStrategyArgs{
			CapacityProvider: pulumi.String(share.Provider), Base: pulumi.Int(share.Base), Weight: pulumi.Int(share.Weight),
		})
	}
	_, err = cloudwatch.NewEventTarget(ctx, s.Name, &cloudwatch.EventTargetArgs{
		Rule:    rule.Name,
		Arn:     c.Cluster.Arn,
		RoleArn: role.Arn,
		EcsTarget: &cloudwatch.EventTargetEcsTargetArgs{
			TaskDefinitionArn:          task.Arn,
			TaskCount:                  pulumi.Int(s.DesiredCount),
			CapacityProviderStrategies: strategy,
			PlatformVersion:            pulumi.String("LATEST"),
			NetworkConfiguration: &cloudwatch.EventTargetEcsTargetNetworkConfigurationArgs{
				Subnets:        c.args.Network.PrivateSubnetIds,
				SecurityGroups: pulumi.StringArray{group},
				AssignPublicIp: pulumi.Bool(false),
			},
		},
	}, opts, pulumi.DependsOn(deps))
	return err
}

// securityGroup is the service's own security group: its tasks reach what
// the service declares it calls and uses, and accept only its callers.
func (c *Compute) securityGroup(s config.Service) (pulumi.StringInput, error) {
	group, ok := c.args.Network.ServiceSecurityGroupIds[s.Name]
	if !ok || group == nil {
		return nil, fmt.Errorf("service %s has no security group of its own", s.Name)
	}
	return group, nil
}
