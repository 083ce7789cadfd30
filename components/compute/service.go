package compute

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
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

// containerSecrets are injected into every container from Secrets Manager
// and SSM, never as plain environment values: name -> (kind, source).
type containerSecret struct {
	name      string
	valueFrom pulumi.StringInput
}

// taskDefinition describes one service's task.
func (c *Compute) taskDefinition(ctx *pulumi.Context, s config.Service, image pulumi.StringInput,
	logGroup *cloudwatch.LogGroup, execRole, taskRole *iam.Role) (*ecs.TaskDefinition, error) {
	args := c.args
	env := map[string]string{
		"APP_ENV":                 args.Environment,
		"SERVICE_NAME":            s.Name,
		"AWS_REGION":              args.Region,
		"PARAMETER_PREFIX":        args.PathPrefix,
		"TENANT_PARAMETER_PREFIX": args.PathPrefix + "/tenants",
	}
	if s.Port > 0 {
		env["PORT"] = fmt.Sprint(s.Port)
	}
	inputs := []any{image, logGroup.Name, args.Data.DatabaseSecretArn}
	for _, sec := range c.secrets {
		inputs = append(inputs, sec.valueFrom)
	}
	const firstSecret = 3
	definitions := pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
		// An ARN is not a secret: the service reads the value at runtime.
		env["DATABASE_SECRET_ARN"] = v[2].(string)
		container := map[string]any{
			"name":                   s.Name,
			"image":                  v[0],
			"essential":              true,
			"readonlyRootFilesystem": s.ReadOnlyRootFilesystem,
			"privileged":             false,
			"environment":            nameValues(env),
			"logConfiguration": map[string]any{
				"logDriver": "awslogs",
				"options": map[string]string{
					"awslogs-group": v[1].(string), "awslogs-region": args.Region, "awslogs-stream-prefix": s.Name,
				},
			},
		}
		if s.ReadOnlyRootFilesystem {
			container["mountPoints"] = []map[string]any{{"sourceVolume": scratchVolume, "containerPath": "/tmp", "readOnly": false}}
		}
		var secrets []map[string]any
		for i, sec := range c.secrets {
			secrets = append(secrets, map[string]any{"name": sec.name, "valueFrom": v[firstSecret+i]})
		}
		container["secrets"] = secrets
		if s.Port > 0 {
			container["portMappings"] = []map[string]any{{"containerPort": s.Port, "protocol": "tcp", "name": s.Name}}
		}
		if s.ContainerHealthCheck && s.Port > 0 {
			path := s.HealthCheckPath
			if path == "" {
				path = "/health"
			}
			container["healthCheck"] = map[string]any{
				"command":     []string{"CMD-SHELL", fmt.Sprintf("curl -f http://localhost:%d%s || exit 1", s.Port, path)},
				"interval":    healthInterval,
				"timeout":     healthTimeout,
				"retries":     healthRetries,
				"startPeriod": healthStartPeriod,
			}
		}
		b, err := json.Marshal([]any{container})
		return string(b), err
	}).(pulumi.StringOutput)

	return ecs.NewTaskDefinition(ctx, s.Name, &ecs.TaskDefinitionArgs{
		Family:                  pulumi.String(args.Project + "-" + args.Environment + "-" + s.Name),
		NetworkMode:             pulumi.String("awsvpc"),
		RequiresCompatibilities: pulumi.ToStringArray([]string{"FARGATE"}),
		Cpu:                     pulumi.String(fmt.Sprint(s.CPU)),
		Memory:                  pulumi.String(fmt.Sprint(s.Memory)),
		ExecutionRoleArn:        execRole.Arn,
		TaskRoleArn:             taskRole.Arn,
		RuntimePlatform: &ecs.TaskDefinitionRuntimePlatformArgs{
			OperatingSystemFamily: pulumi.String("LINUX"), CpuArchitecture: pulumi.String("X86_64"),
		},
		ContainerDefinitions: definitions,
		// Task storage for the writable /tmp of a read-only container.
		Volumes: ecs.TaskDefinitionVolumeArray{ecs.TaskDefinitionVolumeArgs{Name: pulumi.String(scratchVolume)}},
	}, pulumi.Parent(c))
}

// scratchVolume is the task's ephemeral storage, mounted at /tmp.
const scratchVolume = "scratch"

func nameValues(m map[string]string) []map[string]string {
	keys := sortedKeys(m)
	out := make([]map[string]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]string{"name": k, "value": m[k]})
	}
	return out
}

// roles makes a service's execution role (pull its image, write its logs,
// read the secrets it is given) and task role (read its environment's
// parameters and tenants' secrets, write traces and its own logs).
func (c *Compute) roles(ctx *pulumi.Context, s config.Service, repo *ecr.Repository, logGroup *cloudwatch.LogGroup) (*iam.Role, *iam.Role, error) {
	args := c.args
	opts := pulumi.Parent(c)
	trust := pulumi.String(awspolicy.ServiceTrust("ecs-tasks.amazonaws.com", c.account).String())
	prefix := fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", args.Region, c.account, args.PathPrefix)

	exec, err := iam.NewRole(ctx, s.Name+"-execution", &iam.RoleArgs{
		Description: pulumi.String("Starts " + s.Name + " in " + args.Environment), AssumeRolePolicy: trust,
	}, opts)
	if err != nil {
		return nil, nil, err
	}
	secretInputs := []any{repo.Arn, logGroup.Arn, args.KeyArn, args.Data.CacheAuthSecretArn}
	if _, err := iam.NewRolePolicy(ctx, s.Name+"-execution", &iam.RolePolicyArgs{
		Role: exec.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			repoArn, logs, key := v[0].(string), v[1].(string), v[2].(string)
			return awspolicy.New(
				awspolicy.Statement{Sid: "RegistryLogin", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: []string{"*"}},
				awspolicy.Statement{Sid: "PullOwnImage", Effect: "Allow",
					Action:   []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
					Resource: []string{repoArn}},
				awspolicy.Statement{Sid: "OwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logs + ":*"}},
				awspolicy.Statement{Sid: "InjectedSecrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"},
					Resource: []string{v[3].(string)}},
				awspolicy.Statement{Sid: "InjectedParameters", Effect: "Allow", Action: []string{"ssm:GetParameters"},
					Resource: []string{prefix + "/database/*", prefix + "/cache/*"}},
				awspolicy.Statement{Sid: "DecryptInjected", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{key}},
			)
		}, secretInputs...),
	}, opts); err != nil {
		return nil, nil, err
	}

	task, err := iam.NewRole(ctx, s.Name+"-task", &iam.RoleArgs{
		Description: pulumi.String("What " + s.Name + " may do in " + args.Environment), AssumeRolePolicy: trust,
	}, opts)
	if err != nil {
		return nil, nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, s.Name+"-task", &iam.RolePolicyArgs{
		Role: task.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			logs, key, shared, execLogs := v[0].(string), v[1].(string), v[2].(string), v[4].(string)
			secrets := []string{shared, args.Data.TenantSecretsArn}
			secrets = append(secrets, v[3].([]string)...)
			statements := []awspolicy.Statement{
				{Sid: "EnvironmentParameters", Effect: "Allow",
					Action:   []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"},
					Resource: []string{prefix, prefix + "/*"}},
				// Read at runtime, because RDS rotates them.
				{Sid: "DatabaseCredentials", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: secrets},
				{Sid: "DecryptEnvironmentData", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{key},
					Condition: awspolicy.Condition{"StringEquals": {"kms:ViaService": {
						fmt.Sprintf("ssm.%s.amazonaws.com", args.Region), fmt.Sprintf("secretsmanager.%s.amazonaws.com", args.Region)}}}},
				{Sid: "OwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logs + ":*"}},
				// X-Ray takes no resource ARNs.
				{Sid: "Traces", Effect: "Allow", Action: []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, Resource: []string{"*"}},
			}
			if s.ExecuteCommand {
				// What the ECS Exec agent needs: its channels (no resource
				// ARNs), the session key directly, and the session log group.
				statements = append(statements,
					awspolicy.Statement{Sid: "ExecuteCommandChannels", Effect: "Allow", Action: []string{
						"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
						"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"}, Resource: []string{"*"}},
					awspolicy.Statement{Sid: "ExecuteCommandSessionKey", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{key}},
					awspolicy.Statement{Sid: "ExecuteCommandLogGroups", Effect: "Allow", Action: []string{"logs:DescribeLogGroups"}, Resource: []string{"*"}},
					awspolicy.Statement{Sid: "ExecuteCommandLogs", Effect: "Allow",
						Action:   []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
						Resource: []string{execLogs + ":*"}},
				)
			}
			return awspolicy.New(statements...)
		}, logGroup.Arn, args.KeyArn, args.Data.DatabaseSecretArn, args.Data.SiloSecretArns, c.execLogGroup.Arn),
	}, opts); err != nil {
		return nil, nil, err
	}
	return exec, task, nil
}

// service runs a long-lived service: private subnets, no public IP, its
// capacity strategy from the first deployment, rollback on failure.
func (c *Compute) service(ctx *pulumi.Context, s config.Service, task *ecs.TaskDefinition, lbTarget *lb.TargetGroup,
	rule *lb.ListenerRule, registry *servicediscovery.Service) (*ecs.Service, error) {
	args := c.args
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
			SecurityGroups: pulumi.StringArray{args.Network.ServiceSecurityGroupId},
			AssignPublicIp: pulumi.Bool(false),
		},
		DeploymentCircuitBreaker:        &ecs.ServiceDeploymentCircuitBreakerArgs{Enable: pulumi.Bool(true), Rollback: pulumi.Bool(true)},
		DeploymentMinimumHealthyPercent: pulumi.Int(100),
		DeploymentMaximumPercent:        pulumi.Int(200),
		EnableExecuteCommand:            pulumi.Bool(s.ExecuteCommand),
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
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.DependsOn(deps)}
	if s.Autoscaled() {
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
		DeregistrationDelay: pulumi.Int(30),
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

func (c *Compute) rule(ctx *pulumi.Context, s config.Service, tg *lb.TargetGroup) (*lb.ListenerRule, error) {
	return lb.NewListenerRule(ctx, s.Name, &lb.ListenerRuleArgs{
		ListenerArn: c.lb.listener.Arn,
		Priority:    pulumi.Int(s.Priority),
		Actions:     lb.ListenerRuleActionArray{lb.ListenerRuleActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn}},
		Conditions: lb.ListenerRuleConditionArray{lb.ListenerRuleConditionArgs{
			PathPattern: &lb.ListenerRuleConditionPathPatternArgs{Values: pulumi.ToStringArray(s.Paths)},
		}},
	}, pulumi.Parent(c))
}

// autoscaling keeps CPU near 70 %, memory near 80 % and, for routed
// services, requests per target near the goal, between min and max.
func (c *Compute) autoscaling(ctx *pulumi.Context, s config.Service, svc *ecs.Service, tg *lb.TargetGroup) error {
	opts := pulumi.Parent(c)
	target, err := appautoscaling.NewTarget(ctx, s.Name, &appautoscaling.TargetArgs{
		ServiceNamespace:  pulumi.String("ecs"),
		ScalableDimension: pulumi.String("ecs:service:DesiredCount"),
		ResourceId:        pulumi.Sprintf("service/%s/%s", c.Cluster.Name, svc.Name),
		MinCapacity:       pulumi.Int(s.MinCount),
		MaxCapacity:       pulumi.Int(s.MaxCount),
	}, opts)
	if err != nil {
		return err
	}
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
func (c *Compute) schedule(ctx *pulumi.Context, s config.Service, task *ecs.TaskDefinition, execRole, taskRole *iam.Role) error {
	opts := pulumi.Parent(c)
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
	rule, err := cloudwatch.NewEventRule(ctx, s.Name, &cloudwatch.EventRuleArgs{
		Description:        pulumi.String("Runs " + s.Name + " in " + c.args.Environment),
		ScheduleExpression: pulumi.String(s.Schedule),
	}, opts)
	if err != nil {
		return err
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
				SecurityGroups: pulumi.StringArray{c.args.Network.ServiceSecurityGroupId},
				AssignPublicIp: pulumi.Bool(false),
			},
		},
	}, opts, pulumi.DependsOn([]pulumi.Resource{c.capacityProviders}))
	return err
}
